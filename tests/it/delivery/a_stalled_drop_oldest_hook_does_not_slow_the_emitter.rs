//! A background hook that has stalled (10 ms per event) behind a
//! `DropOldest` queue costs the emitter no more than a no-op inline hook
//! does: a million emits finish in about the same time, the queue never
//! holds more than its capacity, memory stays flat, and every one of the
//! million events is accounted for: delivered, evicted or still pending, and
//! after a flush only delivered or evicted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, HookOptions, HookStats, Overflow};

const EVENTS: u64 = 1_000_000;
const CAPACITY: usize = 1024;

/// Emits `EVENTS` numbered events from this thread; returns how long it took.
fn emit_all(center: &EventCenter) -> Duration {
    let emitter = center.emitter("Agent");
    let started = Instant::now();
    for i in 0..EVENTS {
        emitter.emit("work.item").payload(i).send();
    }
    started.elapsed()
}

/// `emit_all` on its own thread: an emitter held by the hook fails the test
/// after `limit` instead of hanging it for hours.
fn emit_all_within(center: &EventCenter, limit: Duration) -> Duration {
    let (tx, rx) = mpsc::channel();
    let c = center.clone();
    thread::spawn(move || {
        let _ = tx.send(emit_all(&c));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("1,000,000 emits did not finish in {limit:?}"))
}

/// The resident set size of this process in bytes (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm (Linux)");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages in statm");
    pages * 4096
}

fn the_hook(center: &EventCenter) -> HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == "stalled")
        .expect("the stalled hook is registered")
}

/// Every event offered is delivered, failed, dropped or pending. While the
/// worker still moves, one snapshot may catch an event between two counters:
/// retry until one is consistent (a leak never is).
fn assert_accounted_while_moving(center: &EventCenter) -> HookStats {
    let mut last = None;
    for _ in 0..1_000 {
        let s = the_hook(center);
        if s.accepted == s.delivered + s.failed + s.dropped.total() + s.pending {
            return s;
        }
        last = Some(s);
        thread::yield_now();
    }
    panic!("no consistent snapshot in 1,000 tries: {last:?}");
}

#[test]
fn a_stalled_drop_oldest_hook_does_not_slow_the_emitter() {
    // It sets or measures what the whole process shares.
    if crate::support::alone::ran_in_own_process(
        module_path!(),
        "a_stalled_drop_oldest_hook_does_not_slow_the_emitter",
    ) {
        return;
    }
    // (a) Nobody listens: nothing is even built.
    let silent = emit_all(&EventCenter::new());

    // (b) One no-op inline hook: every event is built, stamped and delivered.
    let center = EventCenter::new();
    center
        .register_hook("noop", "work.*", |_: &Event| {})
        .unwrap();
    let noop_inline = emit_all(&center);
    drop(center);

    // (c) A hook that sleeps 10 ms per event while the emitter runs: with
    // `Block` it would hold the emitter for 10,000 s.
    let center = EventCenter::new();
    let stalled = Arc::new(AtomicBool::new(true));
    let received = Arc::new(AtomicU64::new(0));
    let (stall, count) = (stalled.clone(), received.clone());
    center
        .register_hook_with(
            "stalled",
            "work.*",
            HookOptions::new().with_delivery(Delivery::background(CAPACITY, Overflow::DropOldest)),
            move |_: &Event| {
                count.fetch_add(1, Ordering::SeqCst);
                if stall.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(10));
                }
            },
        )
        .unwrap();
    let rss_before = resident_bytes();
    let bound = noop_inline * 5 + Duration::from_secs(1);
    let stalled_hook = emit_all_within(&center, bound * 4);
    let rss_after = resident_bytes();

    println!(
        "1,000,000 emits: no hook {silent:?}, one no-op inline hook {noop_inline:?}, \
         one stalled DropOldest hook {stalled_hook:?}; RSS {} MB -> {} MB",
        rss_before / 1_000_000,
        rss_after / 1_000_000
    );

    assert!(
        stalled_hook <= bound,
        "the stalled hook slowed the emitter: {stalled_hook:?} against {noop_inline:?} \
         with a no-op inline hook (bound {bound:?})"
    );
    let grown = rss_after.saturating_sub(rss_before);
    assert!(
        grown < 200_000_000,
        "memory grew by {} MB while the hook was stalled",
        grown / 1_000_000
    );

    // Still stalled: every event is accounted for, and the queue never held
    // more than its capacity.
    let during = assert_accounted_while_moving(&center);
    assert_eq!(during.accepted, EVENTS, "{during:?}");
    assert_eq!(during.failed, 0, "{during:?}");
    assert_eq!(during.dropped.queue_full, 0, "{during:?}");
    assert!(
        during.dropped.evicted > 0,
        "nothing was evicted: {during:?}"
    );
    assert_eq!(during.dropped.total(), during.dropped.evicted, "{during:?}");
    assert!(during.high_water <= CAPACITY as u64, "{during:?}");
    // The worker takes the whole queue per wake-up: at most one queue-full
    // in its hands and one in the queue.
    assert!(
        during.pending <= 2 * CAPACITY as u64,
        "more than the queue and the worker's batch are pending: {during:?}"
    );

    // Let the hook catch up, then drain: nothing is left pending, and every
    // event was delivered or evicted.
    stalled.store(false, Ordering::SeqCst);
    let report = center.flush(Duration::from_secs(30));
    assert!(report.is_complete(), "the flush timed out: {report:?}");
    let after = the_hook(&center);
    assert_eq!(after.accepted, EVENTS, "{after:?}");
    assert_eq!(after.pending, 0, "{after:?}");
    assert_eq!(after.failed, 0, "{after:?}");
    assert_eq!(after.delivered + after.dropped.total(), EVENTS, "{after:?}");
    assert_eq!(after.dropped.evicted, during.dropped.evicted, "{after:?}");
    assert_eq!(
        after.delivered,
        received.load(Ordering::SeqCst),
        "{after:?}"
    );
    assert!(after.high_water <= CAPACITY as u64, "{after:?}");
    assert_eq!(
        (
            report.accepted,
            report.delivered + report.dropped,
            report.pending
        ),
        (EVENTS, EVENTS, 0),
        "{report:?}"
    );
}
