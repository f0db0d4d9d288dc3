//! A batch the server refuses (422) is split until the one event it refuses
//! stands alone: that event is counted as rejected, and every event around
//! it is sent, in order.
//!
//! The forwarder listens to `step.*` only: registered for every event, it
//! would also take in its own drop report, at a moment its numbers cannot
//! pin down (that report reaches its background hook while `flush` reads
//! them).

use std::time::Duration;

use event_center::{Delivery, DevtoolsForwarder, EventCenter, Overflow};
use event_center_test_support::devtools_server::StubServer;
use serde_json::{json, Value};

fn refuse_poison(body: &Value) -> u16 {
    let poisoned = body["events"]
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e["payload"]["poison"] == true));
    if poisoned {
        422
    } else {
        200
    }
}

#[test]
fn a_batch_devtools_refuses_loses_only_the_refused_event() {
    let stub = StubServer::start(refuse_poison);
    let center = EventCenter::new();
    let delivery = Delivery::background(1024, Overflow::Block);
    let devtools = DevtoolsForwarder::builder(stub.url())
        .with_batch(100, Duration::from_secs(3600))
        .with_patterns(["step.*"])
        .with_delivery(delivery)
        .register(&center, "devtools")
        .unwrap();
    let agent = center.emitter("Agent");
    for n in 0..7 {
        agent
            .emit("step.done")
            .payload(json!({"n": n, "poison": n == 4}))
            .send();
    }

    devtools.flush(Duration::from_secs(10));
    let stats = devtools.stats();
    assert_eq!(
        (stats.accepted, stats.sent, stats.pending),
        (7, 6, 0),
        "{stats:?}"
    );
    assert_eq!(stats.dropped.rejected, 1);
    assert_eq!(stats.dropped.total(), 1);
    assert!(
        stats.last_error.as_deref().unwrap().contains("HTTP 422"),
        "{stats:?}"
    );

    let sent: Vec<u64> = stub
        .accepted()
        .iter()
        .flat_map(|body| body["events"].as_array().unwrap().clone())
        .map(|e| e["payload"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [0, 1, 2, 3, 5, 6]);
}
