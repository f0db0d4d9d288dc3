//! A hook that panics on every third event loses exactly those events: it is
//! counted as failed on each of them and delivered on the rest, every failure
//! is reported once as `event_center.hook_failed`, and the other hooks,
//! inline and background, receive every event in order. This holds whether
//! the panicking hook runs inline in the emitter or on its own worker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, HookOptions, HookStats, Overflow};

use crate::support::panics::quiet_expected_panics;

/// Emits 0..N; N is not a multiple of 3, so the floor in `N / 3` matters.
const N: u64 = 3_001;
const BOOM: &str = "every third event explodes";

/// Panics on the 3rd, 6th, 9th ... event (numbers 2, 5, 8 ...).
fn panic_on_every_third(event: &Event) {
    let i = event.payload.as_u64().expect("a numbered event");
    if (i + 1).is_multiple_of(3) {
        panic!("{}", BOOM);
    }
}

/// Registers a hook that records the number of every event it receives.
fn recording_hook(center: &EventCenter, name: &str, delivery: Delivery) -> Arc<Mutex<Vec<u64>>> {
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(
            name.to_owned(),
            "work.*",
            HookOptions::new().with_delivery(delivery),
            move |e: &Event| {
                sink.lock().unwrap().push(e.payload.as_u64().unwrap());
            },
        )
        .unwrap();
    seen
}

/// Registers a hook that counts the failure reports naming `failing`.
fn failure_counter(
    center: &EventCenter,
    name: &str,
    delivery: Delivery,
    failing: &'static str,
) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    center
        .register_hook_with(
            name.to_owned(),
            "event_center.hook_failed",
            HookOptions::new().with_delivery(delivery),
            move |e: &Event| {
                assert_eq!(e.payload["hook"], failing);
                assert_eq!(e.payload["event_type"], "work.item");
                counter.fetch_add(1, Ordering::SeqCst);
            },
        )
        .unwrap();
    count
}

fn stats_of(center: &EventCenter, name: &str) -> HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no hook named {name}"))
}

fn run(panicker_delivery: Delivery) {
    quiet_expected_panics(BOOM);
    let center = EventCenter::new();
    let queue = || Delivery::background(64, Overflow::Block);

    let before_inline = recording_hook(&center, "before-inline", Delivery::Inline);
    let before_background = recording_hook(&center, "before-background", queue());
    center
        .register_hook_with(
            "panicker",
            "work.*",
            HookOptions::new().with_delivery(panicker_delivery),
            panic_on_every_third,
        )
        .unwrap();
    let after_inline = recording_hook(&center, "after-inline", Delivery::Inline);
    let after_background = recording_hook(&center, "after-background", queue());
    let reports_inline = failure_counter(&center, "reports-inline", Delivery::Inline, "panicker");
    let reports_background = failure_counter(&center, "reports-background", queue(), "panicker");

    // On a thread of its own, so that an emitter stuck on a queue fails the
    // test instead of hanging it.
    let (done, finished) = mpsc::channel();
    let c = center.clone();
    std::thread::spawn(move || {
        let emitter = c.emitter("Worker");
        for i in 0..N {
            emitter.emit("work.item").payload(i).send();
        }
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the emitter did not finish within 30 s");
    let report = center.flush(Duration::from_secs(30));
    assert!(report.is_complete(), "flush timed out: {report:?}");

    let expected_failures = N / 3;
    let panicker = stats_of(&center, "panicker");
    assert_eq!(panicker.accepted, N, "{panicker:?}");
    assert_eq!(panicker.failed, expected_failures, "{panicker:?}");
    assert_eq!(panicker.delivered, N - expected_failures, "{panicker:?}");
    assert_eq!(panicker.dropped.total(), 0, "{panicker:?}");
    assert_eq!(panicker.pending, 0, "{panicker:?}");

    let everything: Vec<u64> = (0..N).collect();
    for (name, seen) in [
        ("before-inline", &before_inline),
        ("before-background", &before_background),
        ("after-inline", &after_inline),
        ("after-background", &after_background),
    ] {
        assert_eq!(*seen.lock().unwrap(), everything, "{name} missed events");
        let stats = stats_of(&center, name);
        assert_eq!(
            (stats.accepted, stats.delivered, stats.failed, stats.pending),
            (N, N, 0, 0),
            "{stats:?}"
        );
        assert_eq!(stats.dropped.total(), 0, "{stats:?}");
    }

    assert_eq!(reports_inline.load(Ordering::SeqCst), expected_failures);
    assert_eq!(reports_background.load(Ordering::SeqCst), expected_failures);
    for name in ["reports-inline", "reports-background"] {
        let stats = stats_of(&center, name);
        assert_eq!(
            (stats.delivered, stats.failed, stats.pending),
            (expected_failures, 0, 0),
            "{stats:?}"
        );
    }
    assert_eq!(center.stats().hook_failures, expected_failures);
    assert_eq!(center.stats().recursion_cut, 0);
}

#[test]
fn an_inline_hook_panicking_on_every_third_event_costs_the_others_nothing() {
    run(Delivery::Inline);
}

#[test]
fn a_background_hook_panicking_on_every_third_event_costs_the_others_nothing() {
    run(Delivery::background(64, Overflow::Block));
}
