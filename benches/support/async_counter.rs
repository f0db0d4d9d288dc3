//! The center both async benches measure, so `async_rate` (compared with
//! Agently) and the criterion group time the same hook.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use event_center::{Event, EventCenter};

/// A center with one awaited async hook on `model.completed` that counts
/// its events; returns the center and the count.
pub fn async_counter_center() -> (EventCenter, Arc<AtomicU64>) {
    let center = EventCenter::new();
    let counter = Arc::new(AtomicU64::new(0));
    let seen = counter.clone();
    center
        .register_async_hook("async-counter", "model.completed", move |e: Arc<Event>| {
            let seen = seen.clone();
            async move {
                black_box(&e);
                seen.fetch_add(1, Ordering::Relaxed);
            }
        })
        .expect("register the async hook");
    (center, counter)
}
