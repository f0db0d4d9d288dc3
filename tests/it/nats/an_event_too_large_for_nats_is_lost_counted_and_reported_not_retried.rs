//! An event larger than the server's `max_payload` (1 MB by default) can
//! never be published: the sink counts it as lost at once instead of
//! retrying it forever, reports it through the center, and publishes the
//! events around it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, NatsSink, Overflow};
use event_center_test_support::nats_server::NatsServer;
use serde_json::json;

#[test]
fn an_event_too_large_for_nats_is_lost_counted_and_reported_not_retried() {
    let server = NatsServer::start();
    let center = EventCenter::new();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            seen.lock()
                .unwrap()
                .push(e.message.as_deref().unwrap_or_default().to_owned());
        })
        .unwrap();
    let guard = NatsSink::builder(server.url())
        .with_delivery(Delivery::background(64, Overflow::Block))
        .register(&center, "nats")
        .unwrap();
    let emitter = center.emitter("Agent");
    emitter.emit("model.requested").send();
    emitter
        .emit("model.completed")
        .payload(json!({"output": "x".repeat(2 << 20)}))
        .send();
    emitter.emit("model.requested").send();
    guard.flush(Duration::from_secs(10));
    let stats = guard.stats();
    assert_eq!(
        (stats.published, stats.lost, stats.retries, stats.pending),
        (2, 1, 0, 0),
        "{stats:?}"
    );
    assert!(
        stats.last_error.as_deref().unwrap().contains("max payload"),
        "{stats:?}"
    );

    // The sink returns the failure from a following call (this one at the
    // latest), so the center reports it once.
    emitter.emit("model.requested").send();
    guard.flush(Duration::from_secs(10));
    let stats = guard.stats();
    let report = guard.shutdown(Duration::from_secs(10));
    assert_eq!((stats.published, stats.lost), (3, 1), "{stats:?}");
    assert_eq!((report.accepted, report.failed), (4, 1), "{report:?}");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].contains("events.model.completed") && reports[0].contains("1 events lost"),
        "{reports:?}"
    );
}
