//! `shutdown(timeout)` never hangs on a slow hook: when the timeout comes it
//! returns, reporting what is still pending, with every accepted event
//! accounted for; given time enough it drains everything. Events offered to
//! a queued hook after shutdown are dropped and counted as `shutdown`, inline
//! hooks keep working, and `shutdown_async` behaves the same.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, FlushReport, HookOptions, HookStats, Overflow};

const EVENTS: u64 = 2_000;

/// A hook's pause per event, in microseconds; changed while the test runs.
type Pace = Arc<AtomicU64>;

/// A center with one background hook `slow` (capacity 10,000, `Block`) that
/// sleeps `pace` microseconds per event, and one inline hook `inline`.
fn center_with_slow_hook(pace: &Pace) -> EventCenter {
    let center = EventCenter::new();
    let pace = pace.clone();
    center
        .register_hook_with(
            "slow",
            "work.*",
            HookOptions::new().with_delivery(Delivery::background(10_000, Overflow::Block)),
            move |_: &Event| {
                let micros = pace.load(Ordering::SeqCst);
                if micros > 0 {
                    std::thread::sleep(Duration::from_micros(micros));
                }
            },
        )
        .unwrap();
    center
        .register_hook("inline", "work.*", |_: &Event| {})
        .unwrap();
    center
}

/// `center.shutdown(timeout)` on its own thread, so that a shutdown that
/// hangs fails the test instead of hanging it; returns the report and how
/// long the call took.
fn shutdown(center: &EventCenter, timeout: Duration) -> (FlushReport, Duration) {
    let (tx, rx) = mpsc::channel();
    let c = center.clone();
    thread::spawn(move || {
        let started = Instant::now();
        let report = c.shutdown(timeout);
        let _ = tx.send((report, started.elapsed()));
    });
    rx.recv_timeout(timeout + Duration::from_secs(10))
        .expect("shutdown hung past its timeout")
}

/// `center.shutdown_async(timeout).await`, failing instead of hanging.
async fn shutdown_async(center: &EventCenter, timeout: Duration) -> (FlushReport, Duration) {
    let started = Instant::now();
    let report = tokio::time::timeout(
        timeout + Duration::from_secs(10),
        center.shutdown_async(timeout),
    )
    .await
    .expect("shutdown_async hung past its timeout");
    (report, started.elapsed())
}

fn emit(center: &EventCenter, n: u64) {
    let emitter = center.emitter("Agent");
    for i in 0..n {
        emitter.emit("work.item").payload(i).send();
    }
}

fn stats_of(center: &EventCenter, name: &str) -> HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no hook named {name}"))
}

fn assert_accounted(report: &FlushReport) {
    assert_eq!(
        report.accepted,
        report.delivered + report.failed + report.dropped + report.pending,
        "{report:?}"
    );
    for h in &report.hooks {
        assert_eq!(
            h.accepted,
            h.delivered + h.failed + h.dropped.total() + h.pending,
            "{h:?}"
        );
    }
}

/// The shutdown that came too early: returns at its timeout with events
/// pending, all accounted for.
fn check_cut_short(report: &FlushReport, took: Duration) {
    assert!(
        took < Duration::from_secs(2),
        "shutdown(50 ms) took {took:?}"
    );
    assert!(report.elapsed >= Duration::from_millis(50), "{report:?}");
    assert!(
        report.pending > 0,
        "2,000 x 5 ms drained in 50 ms? {report:?}"
    );
    assert!(!report.is_complete());
    assert_eq!(report.accepted, EVENTS, "{report:?}");
    assert_eq!(report.failed + report.dropped, 0, "{report:?}");
    assert_accounted(report);
}

/// The shutdown given time enough: nothing pending, everything delivered.
fn check_drained(report: &FlushReport) {
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(
        (
            report.accepted,
            report.delivered,
            report.failed,
            report.dropped
        ),
        (EVENTS, EVENTS, 0, 0),
        "{report:?}"
    );
    assert_accounted(report);
}

/// After shutdown: queued hooks drop new events as `shutdown`, inline hooks
/// still get them, and a queued hook registered now drops them too.
fn check_after_shutdown(center: &EventCenter) {
    center
        .register_hook_with(
            "late",
            "work.*",
            HookOptions::new().with_delivery(Delivery::background(16, Overflow::Block)),
            |_: &Event| {},
        )
        .unwrap();
    emit(center, 10);
    let slow = stats_of(center, "slow");
    assert_eq!(slow.accepted, EVENTS + 10, "{slow:?}");
    assert_eq!(slow.delivered, EVENTS, "{slow:?}");
    assert_eq!(slow.dropped.shutdown, 10, "{slow:?}");
    assert_eq!(slow.dropped.total(), 10, "{slow:?}");
    assert_eq!(slow.pending, 0, "{slow:?}");
    let late = stats_of(center, "late");
    assert_eq!(
        (
            late.accepted,
            late.delivered,
            late.dropped.shutdown,
            late.pending
        ),
        (10, 0, 10, 0),
        "{late:?}"
    );
    let inline = stats_of(center, "inline");
    assert_eq!(
        (inline.accepted, inline.delivered),
        (EVENTS + 10, EVENTS + 10),
        "{inline:?}"
    );
}

#[test]
fn a_shutdown_that_times_out_reports_what_is_still_pending() {
    let pace = Pace::new(AtomicU64::new(5_000));
    let center = center_with_slow_hook(&pace);
    emit(&center, EVENTS);

    let (report, took) = shutdown(&center, Duration::from_millis(50));
    check_cut_short(&report, took);

    // The pending events are still delivered if the process lives on; a
    // second shutdown waits for them.
    pace.store(0, Ordering::SeqCst);
    let (report, _) = shutdown(&center, Duration::from_secs(30));
    check_drained(&report);
}

#[test]
fn a_shutdown_given_time_enough_drains_everything() {
    let pace = Pace::new(AtomicU64::new(500));
    let center = center_with_slow_hook(&pace);
    emit(&center, EVENTS);

    let (report, _) = shutdown(&center, Duration::from_secs(60));
    check_drained(&report);
    check_after_shutdown(&center);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_async_reports_and_drains_the_same() {
    let pace = Pace::new(AtomicU64::new(5_000));
    let center = center_with_slow_hook(&pace);
    emit(&center, EVENTS);

    let (report, took) = shutdown_async(&center, Duration::from_millis(50)).await;
    check_cut_short(&report, took);

    pace.store(500, Ordering::SeqCst);
    let (report, _) = shutdown_async(&center, Duration::from_secs(60)).await;
    check_drained(&report);
    check_after_shutdown(&center);
}
