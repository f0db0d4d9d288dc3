//! A background hook holds at most four times its capacity in events while
//! emits keep coming: the queue, the batch its worker is handling, and the
//! handled events handed back for the emits to free (at most twice the
//! capacity), whatever the pace of the hook.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, Hook, HookOptions, HookResult, Overflow};
use serde_json::json;

const CAPACITY: usize = 64;

/// Keeps a weak reference to every event it is given, and now and then
/// takes its time, so batches of every size form.
#[derive(Default)]
struct Watcher(Mutex<Vec<Weak<Event>>>);

impl Hook for Watcher {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        let mut seen = self.0.lock().unwrap();
        seen.push(Arc::downgrade(event));
        if seen.len().is_multiple_of(1_000) {
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }
}

#[test]
fn events_held_for_a_queued_hook_stay_within_four_times_its_capacity() {
    const EVENTS: u64 = 50_000;
    for overflow in [Overflow::Block, Overflow::DropOldest] {
        let center = EventCenter::new();
        let watcher = Arc::new(Watcher::default());
        let options = HookOptions::new().with_delivery(Delivery::background(CAPACITY, overflow));
        center
            .register_hook_with("watcher", "work.*", options, watcher.clone())
            .unwrap();
        let emitter = center.emitter("Agent");
        let mut most = 0;
        for i in 0..EVENTS {
            emitter.emit("work.item").payload(json!({"i": i})).send();
            if i % 97 == 0 {
                // Events the hook has seen that are still alive: handed back
                // or in the batch in hand. Events still queued were not seen
                // yet and are at most CAPACITY more.
                let seen = watcher.0.lock().unwrap();
                let alive = seen.iter().filter(|w| w.strong_count() > 0).count();
                most = most.max(alive + CAPACITY);
            }
        }
        assert!(
            most <= 4 * CAPACITY,
            "{overflow:?}: {most} events held for a hook of capacity {CAPACITY}"
        );
        let report = center.flush(Duration::from_secs(10));
        assert_eq!(report.pending, 0, "{report:?}");
    }
}
