//! When the forwarder's buffer is full, high-frequency and coalesced events
//! make room first (the oldest of them first, or the new one if it is the
//! only one), then the oldest event; every drop is counted by reason and
//! reported as an `event_center.events_dropped` event, and what stays is
//! sent in emit order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Delivery, DevtoolsForwarder, Event, EventCenter, Overflow};
use event_center_test_support::devtools_server::StubServer;
use serde_json::{json, Value};

#[test]
fn a_full_devtools_buffer_drops_high_frequency_then_oldest_and_reports_it() {
    let stub = StubServer::start(|_| 200);
    let center = EventCenter::new();
    let reports = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen = reports.clone();
    center
        .register_hook(
            "reports",
            "event_center.events_dropped",
            move |event: &Event| {
                seen.lock().unwrap().push(event.payload.clone());
            },
        )
        .unwrap();
    // Nothing leaves until the flush: batches of 1,000 or an hour old.
    let delivery = Delivery::background(1024, Overflow::Block);
    let devtools = DevtoolsForwarder::builder(stub.url())
        .with_buffer(5)
        .with_batch(1000, Duration::from_secs(3600))
        .with_patterns(["step.*", "model.*"])
        .with_delivery(delivery)
        .register(&center, "devtools")
        .unwrap();

    let agent = center.emitter("Agent");
    let step = |n: u32| {
        agent
            .emit(format!("step.s{n}"))
            .payload(json!({"n": n}))
            .send()
    };
    let delta = |t: &str| {
        agent
            .emit("model.response.delta")
            .payload(json!({"delta": t}))
            .send()
    };
    step(1);
    step(2);
    delta("a");
    step(3);
    agent.emit("step.summary").meta("coalesced", true).send(); // buffer full: 1 2 a 3 summary
    step(4); // the oldest droppable goes: the delta "a"
    step(5); // then the coalesced summary
    delta("b"); // nothing droppable buffered: the new delta itself
    step(6); // nothing droppable at all: the oldest, step 1
    center.flush(Duration::from_secs(10));
    let stats = devtools.stats();
    assert_eq!(
        (stats.accepted, stats.pending, stats.sent),
        (9, 5, 0),
        "{stats:?}"
    );
    assert_eq!(stats.high_water, 5);
    let d = stats.dropped;
    assert_eq!(
        (
            d.high_frequency,
            d.coalesced,
            d.oldest,
            d.rejected,
            d.shutdown
        ),
        (2, 1, 1, 0, 0)
    );

    devtools.flush(Duration::from_secs(10));
    let stats = devtools.stats();
    assert_eq!(
        (stats.sent, stats.pending, stats.requests),
        (5, 0, 1),
        "{stats:?}"
    );
    let bodies = stub.accepted();
    let types: Vec<&str> = bodies[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["step.s2", "step.s3", "step.s4", "step.s5", "step.s6"]
    );

    // The drops were reported (the flush reports what was not yet; a report
    // the sender thread was making meanwhile may land a moment later, and
    // the totals in the reports only grow).
    let waited = std::time::Instant::now();
    let reported = || -> u64 {
        center.flush(Duration::from_secs(10));
        reports
            .lock()
            .unwrap()
            .iter()
            .map(|r| r["dropped"].as_u64().unwrap())
            .sum()
    };
    while reported() < 4 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "{:?}",
            reports.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(reported(), 4);
    let reports = reports.lock().unwrap();
    assert!(reports.iter().all(|r| r["hook"] == "devtools"));
    let most = |reason: &str| {
        reports
            .iter()
            .map(|r| r["total"][reason].as_u64().unwrap())
            .max()
    };
    assert_eq!(
        [
            "high_frequency",
            "coalesced",
            "oldest",
            "rejected",
            "shutdown"
        ]
        .map(most),
        [Some(2), Some(1), Some(1), Some(0), Some(0)]
    );
}
