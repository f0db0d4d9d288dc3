//! The closure form collects the closure's events in emission order, from
//! every emit path, listened to or not (payload closures are called for
//! them), plus the events inline hooks emit while handling them; events of
//! other threads during the closure are not collected.

use std::sync::Arc;

use event_center::{Event, EventCenter};
use serde_json::json;

#[test]
fn capture_sync_returns_a_closures_events_in_emission_order() {
    let center = EventCenter::new();
    let echo = center.emitter("Echo");
    center
        .register_hook("echo", "order.placed", move |_: &Event| {
            echo.emit("order.echoed").send();
        })
        .unwrap();
    let emitter = center.emitter("Tool");

    let captured = center.capture_sync(|| {
        emitter.emit("order.started").send();
        emitter.emit("order.placed").send(); // its hook emits order.echoed
        emitter
            .emit("order.priced")
            .payload_with(|| json!({"total": 12.5}))
            .send();
        let other = emitter.clone();
        std::thread::spawn(move || other.emit("other.thread").send())
            .join()
            .unwrap();
        center.emit_event(Event::new("order.replayed"));
        center
            .emit_json(json!({"event_type": "order.dict", "payload": 1}))
            .unwrap();
        emitter.warning("almost out of stock").send();
        "done"
    });

    assert_eq!(captured.output, "done");
    let types: Vec<_> = captured
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "order.started",
            "order.placed",
            "order.echoed",
            "order.priced",
            "order.replayed",
            "order.dict",
            "runtime.warning",
        ]
    );
    assert_eq!(captured.events[3].payload["total"], 12.5);
    assert!(captured.events.iter().all(|e| e.seq > 0));

    // Nothing is carried over.
    let again = center.capture_sync(|| ());
    assert!(again.events.is_empty());
    let _: Vec<Arc<Event>> = again.events;
}
