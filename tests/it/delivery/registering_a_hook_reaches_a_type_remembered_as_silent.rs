//! An emitter thread that has learned "nobody listens to `model.delta`" must
//! see a hook registered later, from any thread, on its very next emit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_center::{Event, EventCenter};

#[test]
fn a_hook_registered_after_silent_emits_receives_the_next_one() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    for _ in 0..100 {
        emitter.emit("model.delta").send();
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    center
        .register_hook("late", "model.*", move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    emitter.emit("model.delta").send();
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    assert!(center.unregister_hook("late"));
    emitter.emit("model.delta").send();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[test]
fn a_hook_registered_from_another_thread_is_seen_by_the_emitting_thread() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    emitter.emit("tool.called").send();

    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let other = center.clone();
    std::thread::spawn(move || {
        other
            .register_hook("from-elsewhere", "tool.called", move |_: &Event| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    })
    .join()
    .unwrap();

    emitter.emit("tool.called").send();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[test]
fn two_centers_do_not_share_what_one_thread_remembered() {
    let quiet = EventCenter::new();
    let busy = EventCenter::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    busy.register_hook("busy", "a.b", move |_: &Event| {
        counter.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();

    quiet.emitter("S").emit("a.b").send();
    busy.emitter("S").emit("a.b").send();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
