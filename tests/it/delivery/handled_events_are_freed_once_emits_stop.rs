//! A background hook's worker hands the events it has handled back to the
//! emits that follow, each freeing one. When the emits stop, the worker
//! frees what is left itself: no event outlives a quiet center for long.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, Hook, HookOptions, HookResult, Overflow};
use serde_json::json;

/// Keeps a weak reference to every event it is given.
#[derive(Default)]
struct Watcher(Mutex<Vec<Weak<Event>>>);

impl Hook for Watcher {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        self.0.lock().unwrap().push(Arc::downgrade(event));
        Ok(())
    }
}

impl Watcher {
    fn alive(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

#[test]
fn the_worker_frees_the_handled_events_once_no_emit_comes() {
    const EVENTS: u64 = 5_000;
    let center = EventCenter::new();
    let watcher = Arc::new(Watcher::default());
    let options = HookOptions::new().with_delivery(Delivery::background(1_024, Overflow::Block));
    center
        .register_hook_with("watcher", "work.*", options, watcher.clone())
        .unwrap();

    let emitter = center.emitter("Agent");
    for i in 0..EVENTS {
        emitter.emit("work.item").payload(json!({"i": i})).send();
    }
    let report = center.flush(Duration::from_secs(10));
    assert_eq!(report.pending, 0, "{report:?}");
    assert_eq!(watcher.0.lock().unwrap().len() as u64, EVENTS);

    let deadline = Instant::now() + Duration::from_secs(5);
    while watcher.alive() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        watcher.alive(),
        0,
        "events still held 5 s after the last emit"
    );
}
