//! Events a queued hook drops surface as `event_center.events_dropped`
//! reports: the first drops at once, then at most one report a second per
//! hook carrying every drop since the last one, and a final report when the
//! hook's worker stops, so the reported counts add up to the hook's
//! `dropped` total. A hook never receives a report about its own drops, and
//! each drop is counted under its reason: `queue_full` (DropNewest),
//! `evicted` (DropOldest), `unregistered` (queued for a hook that was
//! unregistered first).
//!
//! No drop escapes the reports, whatever the order in which workers stop: a
//! worker's final report is never dropped by another hook's closed queue
//! (that drop would come after the other worker's own final report), and a
//! close that overtakes a flush still gets its final report.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use event_center::{CoalescePolicy, Delivery, Event, EventCenter, HookOptions, Overflow, Patterns};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(5);
const DROPPED: &str = "event_center.events_dropped";
const CAPACITY: usize = 4;
const BURST: usize = 20;
/// The drops of one burst into a stalled hook's full queue.
const DROPS: u64 = (BURST - CAPACITY) as u64;

/// Holds a hook inside its callback while closed.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn set(&self, open: bool) {
        *self.open.lock().unwrap() = open;
        self.changed.notify_all();
    }

    /// Waits while closed; gives up after `WAIT` so a failing test cannot
    /// leave a worker stuck.
    fn pass(&self) {
        let open = self.open.lock().unwrap();
        let _ = self
            .changed
            .wait_timeout_while(open, WAIT, |open| !*open)
            .unwrap();
    }
}

/// A queued hook that reports each call on a channel and then waits at the
/// gate, so a test can stall its worker and fill its queue.
struct Stalled {
    gate: Arc<Gate>,
    entered: Receiver<String>,
    /// The `event_center.events_dropped` reports the hook itself received.
    reports: Arc<Mutex<Vec<Event>>>,
}

fn stalled_hook(
    center: &EventCenter,
    name: &str,
    gate: Arc<Gate>,
    entered: Sender<String>,
    overflow: Overflow,
) -> Arc<Mutex<Vec<Event>>> {
    let reports: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = reports.clone();
    let own = name.to_owned();
    let options = HookOptions::new().with_delivery(Delivery::background(CAPACITY, overflow));
    center
        .register_hook_with(name.to_owned(), Patterns::All, options, move |e: &Event| {
            if e.event_type == DROPPED {
                sink.lock().unwrap().push(e.clone());
            }
            let _ = entered.send(own.clone());
            gate.pass();
        })
        .unwrap();
    reports
}

fn stalled(center: &EventCenter, name: &str, overflow: Overflow) -> Stalled {
    let gate = Arc::new(Gate::default());
    gate.set(true);
    let (tx, entered) = channel();
    let reports = stalled_hook(center, name, gate.clone(), tx, overflow);
    Stalled {
        gate,
        entered,
        reports,
    }
}

impl Stalled {
    /// Closes the gate and waits until the worker is held inside the hook
    /// (its queue then empty).
    fn stall(&self, center: &EventCenter) {
        while self.entered.try_recv().is_ok() {}
        self.gate.set(false);
        center.emitter("Test").emit("work.stall").send();
        self.entered
            .recv_timeout(WAIT)
            .expect("the stalled hook was never called");
    }
}

/// Records every drop report with the time it arrived.
type Reports = Arc<Mutex<Vec<(Instant, Event)>>>;

fn listen(center: &EventCenter) -> Reports {
    let reports: Reports = Arc::default();
    let sink = reports.clone();
    center
        .register_hook("drop-listener", DROPPED, move |e: &Event| {
            sink.lock().unwrap().push((Instant::now(), e.clone()));
        })
        .unwrap();
    reports
}

fn reports_about(reports: &Reports, hook: &str) -> Vec<(Instant, Event)> {
    reports
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| e.payload["hook"] == hook)
        .cloned()
        .collect()
}

fn wait_for_reports(reports: &Reports, hook: &str, n: usize) -> Vec<(Instant, Event)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = reports_about(reports, hook);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} for {n} drop reports about `{hook}`, got {}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn burst(center: &EventCenter, n: usize) {
    let emitter = center.emitter("Test");
    for i in 0..n {
        emitter
            .emit("work.item")
            .payload(serde_json::json!({ "i": i }))
            .send();
    }
}

fn dropped_of(report: &Event) -> u64 {
    report.payload["dropped"].as_u64().unwrap()
}

fn hook_stats(center: &EventCenter, name: &str) -> event_center::HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == name)
        .unwrap()
}

#[test]
fn drops_are_reported_at_once_then_at_most_once_a_second_then_finally() {
    let center = EventCenter::new();
    let reports = listen(&center);
    let hook = stalled(&center, "stalled", Overflow::DropNewest);

    // Burst 1: the first report goes out as soon as the worker runs again.
    hook.stall(&center);
    burst(&center, BURST);
    assert_eq!(hook_stats(&center, "stalled").dropped.queue_full, DROPS);
    let released = Instant::now();
    hook.gate.set(true);
    let first = wait_for_reports(&reports, "stalled", 1);
    let (first_at, first_report) = &first[0];
    assert!(
        first_at.duration_since(released) < Duration::from_millis(900),
        "the first report took {:?}",
        first_at.duration_since(released)
    );
    assert_eq!(dropped_of(first_report), DROPS);
    assert_eq!(first_report.payload["total"]["queue_full"], DROPS);
    assert_eq!(first_report.source, "event_center");
    center.flush(WAIT);

    // Bursts 2 and 3 within the same second: the worker runs after each, but
    // may not report yet.
    for _ in 0..2 {
        hook.stall(&center);
        burst(&center, BURST);
        hook.gate.set(true);
        center.flush(WAIT);
    }
    let within_the_second = first_at.elapsed() < Duration::from_millis(900);
    if within_the_second {
        assert_eq!(
            reports_about(&reports, "stalled").len(),
            1,
            "a second report within a second of the first"
        );
    }

    // Then, with no further emit, the worker's timer sends the next report.
    let second = wait_for_reports(&reports, "stalled", 2);
    let (second_at, second_report) = &second[1];
    assert!(
        second_at.duration_since(*first_at) >= Duration::from_millis(950),
        "two reports {:?} apart",
        second_at.duration_since(*first_at)
    );
    if within_the_second {
        assert_eq!(dropped_of(second_report), 2 * DROPS, "aggregated count");
        assert_eq!(second_report.payload["total"]["queue_full"], 3 * DROPS);
    }

    // Burst 4 right after: reported by the final report at shutdown.
    hook.stall(&center);
    burst(&center, BURST);
    hook.gate.set(true);
    center.flush(WAIT);
    let report = center.shutdown(WAIT);
    assert_eq!(report.pending, 0);

    let all = reports_about(&reports, "stalled");
    assert!(all.len() >= 3, "no final report: {}", all.len());
    // Every report but the final one is at least a second after the one
    // before it.
    for pair in all[..all.len() - 1].windows(2) {
        let gap = pair[1].0.duration_since(pair[0].0);
        assert!(gap >= Duration::from_millis(950), "reports {gap:?} apart");
    }
    let stats = hook_stats(&center, "stalled");
    let reported: u64 = all.iter().map(|(_, e)| dropped_of(e)).sum();
    assert_eq!(stats.dropped.total(), 4 * DROPS);
    assert_eq!(stats.dropped.queue_full, 4 * DROPS);
    assert_eq!(reported, stats.dropped.total());
    assert_eq!(
        stats.accepted,
        stats.delivered + stats.failed + stats.dropped.total() + stats.pending
    );
    let last = &all.last().unwrap().1;
    assert_eq!(last.payload["total"]["queue_full"], 4 * DROPS);
    // The hook never saw a report about itself.
    assert!(hook.reports.lock().unwrap().is_empty());
}

#[test]
fn a_hook_never_receives_the_report_of_its_own_drops() {
    let center = EventCenter::new();
    let listener = listen(&center);
    let gate = Arc::new(Gate::default());
    gate.set(true);
    let (tx, entered) = channel();
    let a = stalled_hook(&center, "a", gate.clone(), tx.clone(), Overflow::DropNewest);
    let b = stalled_hook(&center, "b", gate.clone(), tx, Overflow::DropNewest);
    let stall_both = || {
        while entered.try_recv().is_ok() {}
        gate.set(false);
        center.emitter("Test").emit("work.stall").send();
        for _ in 0..2 {
            entered
                .recv_timeout(WAIT)
                .expect("a stalled hook was not called");
        }
    };

    // Both drop; their first reports go out as soon as they are released
    // (and may be dropped by the other, still busy, hook).
    stall_both();
    burst(&center, BURST);
    gate.set(true);
    center.flush(WAIT);
    // Both drop again within the second: these are reported by each
    // worker's timer, into the other hook's queue, which now has room.
    stall_both();
    burst(&center, BURST);
    gate.set(true);
    center.flush(WAIT);

    let deadline = Instant::now() + WAIT;
    while (a.lock().unwrap().is_empty() || b.lock().unwrap().is_empty())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    center.shutdown(WAIT);

    let about = |seen: &Arc<Mutex<Vec<Event>>>| -> Vec<String> {
        seen.lock()
            .unwrap()
            .iter()
            .map(|e| e.payload["hook"].as_str().unwrap().to_owned())
            .collect()
    };
    let (seen_by_a, seen_by_b) = (about(&a), about(&b));
    assert!(!seen_by_a.is_empty(), "`a` received no report about `b`");
    assert!(!seen_by_b.is_empty(), "`b` received no report about `a`");
    assert!(seen_by_a.iter().all(|h| h == "b"), "`a` saw {seen_by_a:?}");
    assert!(seen_by_b.iter().all(|h| h == "a"), "`b` saw {seen_by_b:?}");
    // The listener saw both hooks' reports, adding up to their totals.
    for name in ["a", "b"] {
        let reported: u64 = reports_about(&listener, name)
            .iter()
            .map(|(_, e)| dropped_of(e))
            .sum();
        assert_eq!(
            reported,
            hook_stats(&center, name).dropped.total(),
            "{name}"
        );
        assert!(reported >= 2 * DROPS, "{name}: {reported}");
    }
}

#[test]
fn drop_oldest_counts_evictions() {
    let center = EventCenter::new();
    let reports = listen(&center);
    let hook = stalled(&center, "oldest", Overflow::DropOldest);
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(
            "probe",
            "work.item",
            HookOptions::new(),
            move |e: &Event| sink.lock().unwrap().push(e.payload["i"].clone()),
        )
        .unwrap();

    hook.stall(&center);
    burst(&center, BURST);
    hook.gate.set(true);
    let got = wait_for_reports(&reports, "oldest", 1);
    let report = &got[0].1;
    assert_eq!(dropped_of(report), DROPS);
    assert_eq!(report.payload["total"]["evicted"], DROPS);
    assert_eq!(report.payload["total"]["queue_full"], 0);
    center.shutdown(WAIT);

    let stats = hook_stats(&center, "oldest");
    assert_eq!(stats.dropped.evicted, DROPS);
    assert_eq!(stats.dropped.total(), DROPS);
    assert_eq!(stats.delivered, 1 + CAPACITY as u64);
    assert_eq!(seen.lock().unwrap().len(), BURST);
}

#[test]
fn drop_newest_counts_a_full_queue() {
    let center = EventCenter::new();
    let reports = listen(&center);
    let hook = stalled(&center, "newest", Overflow::DropNewest);
    hook.stall(&center);
    burst(&center, BURST);
    hook.gate.set(true);
    let got = wait_for_reports(&reports, "newest", 1);
    let report = &got[0].1;
    assert_eq!(report.payload["total"]["queue_full"], DROPS);
    assert_eq!(report.payload["total"]["evicted"], 0);
    center.shutdown(WAIT);
    let stats = hook_stats(&center, "newest");
    assert_eq!(stats.dropped.queue_full, DROPS);
    assert_eq!(stats.dropped.total(), DROPS);
    assert_eq!(stats.delivered, 1 + CAPACITY as u64);
}

#[test]
fn events_queued_for_an_unregistered_hook_count_as_unregistered() {
    let center = EventCenter::new();
    let reports = listen(&center);
    let hook = stalled(&center, "leaving", Overflow::DropNewest);
    hook.stall(&center);
    let queued = CAPACITY - 1;
    burst(&center, queued);

    assert!(center.unregister_hook("leaving"));
    hook.gate.set(true);
    let deadline = Instant::now() + WAIT;
    let reported = loop {
        let reported: u64 = reports_about(&reports, "leaving")
            .iter()
            .map(|(_, e)| dropped_of(e))
            .sum();
        if reported >= queued as u64 || Instant::now() >= deadline {
            break reported;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(reported, queued as u64);
    let all = reports_about(&reports, "leaving");
    let last = &all.last().unwrap().1;
    assert_eq!(last.payload["total"]["unregistered"], queued as u64);
    assert_eq!(last.payload["total"]["queue_full"], 0);
    let report = center.flush(WAIT);
    assert_eq!(report.pending, 0);
}

/// A coalescing hook (buffers only high-frequency events, flushed only by a
/// flush, a close or the next other event) that reports each call's event
/// type and then waits at `gate`.
fn coalescing_hook(
    center: &EventCenter,
    name: &str,
    gate: Arc<Gate>,
    capacity: usize,
    overflow: Overflow,
) -> Receiver<String> {
    let (tx, entered) = channel();
    let policy = CoalescePolicy::new().with_idle_flush(Duration::ZERO);
    let delivery = Delivery::Coalesce {
        policy,
        capacity,
        overflow,
    };
    let options = HookOptions::new().with_delivery(delivery);
    center
        .register_hook_with(name.to_owned(), Patterns::All, options, move |e: &Event| {
            let _ = tx.send(e.event_type.to_string());
            gate.pass();
        })
        .unwrap();
    entered
}

fn reported_about(reports: &Reports, hook: &str) -> u64 {
    reports_about(reports, hook)
        .iter()
        .map(|(_, e)| dropped_of(e))
        .sum()
}

/// Waits until the reports about `hook` add up to `n` drops (or `WAIT`
/// passed); what they add up to.
fn wait_for_reported(reports: &Reports, hook: &str, n: u64) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let reported = reported_about(reports, hook);
        if reported >= n || Instant::now() >= deadline {
            return reported;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Drops `2 * DROPS` events at `hook`, the second half within a second of
/// the first report, so they wait for the next (timer or final) report.
fn drop_twice(center: &EventCenter, hook: &Stalled, reports: &Reports, name: &str) {
    hook.stall(center);
    burst(center, BURST);
    hook.gate.set(true);
    wait_for_reports(reports, name, 1);
    center.flush(WAIT);
    hook.stall(center);
    burst(center, BURST);
    hook.gate.set(true);
    center.flush(WAIT);
}

/// The failure once seen in `a_hook_never_receives_the_report_of_its_own_drops`,
/// made deterministic: at shutdown, `b`'s worker sends its final report and
/// ends while `a`'s worker is still delivering its coalescing buffer; then
/// `a`'s final report reaches `b`'s closed queue. Counted there as a
/// `shutdown` drop of `b`, after `b`'s final report, it was never reported.
#[test]
fn final_reports_crossing_at_shutdown_leave_no_drop_unreported() {
    let center = EventCenter::new();
    let listener = listen(&center);
    let gate_a = Arc::new(Gate::default());
    gate_a.set(true);
    let a_entered = coalescing_hook(&center, "a", gate_a.clone(), 1024, Overflow::DropNewest);
    let b = stalled(&center, "b", Overflow::DropNewest);

    drop_twice(&center, &b, &listener, "b");
    // `a` buffers a delta and will wait at its gate when it delivers it: in
    // its closing pass, before its final report.
    while a_entered.try_recv().is_ok() {}
    gate_a.set(false);
    center
        .emitter("Test")
        .emit("model.response.delta")
        .payload(serde_json::json!({ "delta": "x" }))
        .send();

    let stopping = {
        let center = center.clone();
        std::thread::spawn(move || center.shutdown(WAIT))
    };
    a_entered
        .recv_timeout(WAIT)
        .expect("`a` never delivered its buffer");
    // `b`'s final report is out (its worker ends); only then does `a` go on.
    wait_for_reported(&listener, "b", 2 * DROPS);
    gate_a.set(true);
    let report = stopping.join().unwrap();
    assert_eq!(report.pending, 0);

    for name in ["a", "b"] {
        let stats = hook_stats(&center, name);
        assert_eq!(
            reported_about(&listener, name),
            stats.dropped.total(),
            "{name}: {stats:?}"
        );
    }
    assert_eq!(hook_stats(&center, "b").dropped.total(), 2 * DROPS);
}

/// A close (here an unregister) that comes while the worker is in a flush's
/// pass (delivering its coalescing buffer) must not end the worker without
/// its final report: the drops still within the second of the last report
/// were lost.
#[test]
fn a_close_that_overtakes_a_flush_still_gets_the_final_report() {
    let center = EventCenter::new();
    let listener = listen(&center);
    let gate = Arc::new(Gate::default());
    gate.set(true);
    let entered = coalescing_hook(&center, "h", gate.clone(), CAPACITY, Overflow::DropNewest);
    let hook = Stalled {
        gate: gate.clone(),
        entered,
        reports: Arc::default(),
    };

    drop_twice(&center, &hook, &listener, "h");
    let dropped = hook_stats(&center, "h").dropped.total();
    assert_eq!(dropped, 2 * DROPS);
    // A buffered delta, delivered by the next flush's pass, where the hook
    // waits at its gate while it is unregistered.
    while hook.entered.try_recv().is_ok() {}
    gate.set(false);
    center
        .emitter("Test")
        .emit("model.response.delta")
        .payload(serde_json::json!({ "delta": "x" }))
        .send();
    let flushing = {
        let center = center.clone();
        std::thread::spawn(move || center.flush(WAIT))
    };
    hook.entered
        .recv_timeout(WAIT)
        .expect("the flush never delivered the buffer");
    assert!(center.unregister_hook("h"));
    gate.set(true);
    flushing.join().unwrap();

    assert_eq!(wait_for_reported(&listener, "h", dropped), dropped);
    assert!(center.flush(WAIT).is_complete());
}
