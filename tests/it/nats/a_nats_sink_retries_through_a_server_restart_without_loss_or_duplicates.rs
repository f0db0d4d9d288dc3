//! The NATS server dies while the sink is publishing and comes back (same
//! port, same store) after longer than the ack timeout: the publishes whose
//! acks never came are retried, the stream ends up holding every event
//! exactly once (a retry of a publish the server had stored is a
//! duplicate, not a second copy), nothing is lost, and the failures reached
//! the center as `event_center.hook_failed` reports.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, NatsSink, Overflow};
use event_center_test_support::nats_server::NatsServer;
use serde_json::json;

const EVENTS: usize = 3_000;

#[test]
fn a_nats_sink_retries_through_a_server_restart_without_loss_or_duplicates() {
    let mut server = NatsServer::start();
    let url = server.url();
    let center = EventCenter::new();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let seen = failures.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            let message = e.message.as_deref().unwrap_or_default().to_owned();
            seen.lock()
                .unwrap()
                .push((e.payload["hook"].clone(), message));
        })
        .unwrap();
    let guard = NatsSink::builder(&url)
        .with_delivery(Delivery::background(EVENTS, Overflow::Block))
        .register(&center, "nats")
        .unwrap();

    let emitter = center.emitter("Agent");
    let mut ids = BTreeSet::new();
    let mut emit = |range: std::ops::Range<usize>| {
        for i in range {
            let event = Event::new("agent.step")
                .with_source("Agent")
                .with_payload(json!({"i": i}));
            ids.insert(event.event_id.to_string());
            center.emit_event(event);
        }
    };
    emit(0..1_000);
    let report = guard.flush(Duration::from_secs(30));
    assert_eq!((report.delivered, report.pending), (1_000, 0), "{report:?}");
    let stats = guard.stats();
    assert_eq!((stats.published, stats.pending), (1_000, 0), "{stats:?}");

    // The server goes away with publishes on their way, and more come
    // while it is down, for longer than the 5 s a publish waits for its ack.
    emit(1_000..1_500);
    server.stop();
    emit(1_500..2_000);
    let down = Instant::now();
    while guard.stats().retries == 0 {
        assert!(
            down.elapsed() < Duration::from_secs(30),
            "{:?}",
            guard.stats()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.restart();
    emit(2_000..EVENTS);
    drop(emitter);

    guard.flush(Duration::from_secs(60));
    let stats = guard.stats();
    let report = guard.shutdown(Duration::from_secs(60));
    assert_eq!(stats.accepted, EVENTS as u64, "{stats:?}");
    assert_eq!(
        stats.published + stats.duplicates,
        EVENTS as u64,
        "{stats:?}"
    );
    assert_eq!((stats.lost, stats.pending), (0, 0), "{stats:?}");
    assert!(stats.retries > 0, "{stats:?}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored = runtime.block_on(event_center_test_support::nats_server::stream_contents(
        &url, "EVENTS",
    ));
    assert_eq!(stored.messages, EVENTS as u64);
    assert_eq!(
        event_center_test_support::nats_server::distinct(&stored.ids),
        ids
    );

    // The failures reached the center through the hook: counted as its
    // failures and reported, one report each.
    let failures = failures.lock().unwrap();
    assert!(!failures.is_empty(), "no failure was reported");
    assert_eq!(report.failed, failures.len() as u64, "{report:?}");
    assert_eq!(report.accepted, EVENTS as u64, "{report:?}");
    assert!(
        failures.iter().all(|(hook, message)| hook == "nats"
            && message.contains("publishing events to NATS failed")),
        "{failures:?}"
    );
}
