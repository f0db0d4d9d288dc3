//! `flush` waits for events one hook's worker emits into another hook while
//! the flush is under way, even when that other hook had already drained.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};

#[test]
fn flush_waits_for_events_hooks_emit_while_it_drains() {
    let center = EventCenter::new();
    let queued = || HookOptions::new().with_delivery(Delivery::background(1024, Overflow::Block));

    // Registered first, so its flush request is answered first: it has
    // nothing queued yet when the flush starts.
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    center
        .register_hook_with("downstream", "step.done", queued(), move |_: &Event| {
            std::thread::sleep(Duration::from_millis(5));
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();

    // Emits one `step.done` per `step.started`, from its own worker.
    let relay = center.clone();
    center
        .register_hook_with("upstream", "step.started", queued(), move |_: &Event| {
            std::thread::sleep(Duration::from_millis(2));
            relay.emitter("Relay").emit("step.done").send();
        })
        .unwrap();

    let emitter = center.emitter("Agent");
    for _ in 0..10 {
        emitter.emit("step.started").send();
    }
    let report = center.flush(Duration::from_secs(30));

    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.pending, 0);
    assert_eq!(report.delivered, 20, "{report:?}");
    assert_eq!(received.load(Ordering::Relaxed), 10);
}
