//! Every event offered to a hook is accounted for, under load and churn:
//! four threads emit 250,000 events each to a mix of types while another
//! thread registers and unregisters hooks of every delivery kind, and after
//! a flush `accepted == delivered + failed + dropped + pending` holds for
//! every hook (those unregistered while their workers still drained
//! included). Long-lived hooks have nothing pending, and those that never
//! drop (inline, blocking queues, coalescing) got exactly the events they
//! matched. After shutdown no hook worker thread is left running.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{
    CoalescePolicy, Delivery, Event, EventCenter, HookOptions, HookStats, Overflow, Patterns,
};

const EMITTERS: usize = 4;
const PER_EMITTER: u64 = 250_000;

/// The event types emitted, in turn; index i goes to event number n when
/// n % TYPES.len() == i.
const TYPES: [&str; 5] = [
    "work.item",
    "model.response.delta",
    "tool.called",
    "model.completed",
    "other.noise",
];
const WORK: usize = 0;
const DELTA: usize = 1;
const TOOL: usize = 2;
const MODEL: usize = 3;

/// What the emitters sent: per type, the number of events, and of those
/// whose number is a multiple of 7 (the ones `failing` rejects).
#[derive(Default, Clone, Copy)]
struct Sent {
    per_type: [u64; TYPES.len()],
    sevens: [u64; TYPES.len()],
}

fn options(delivery: Delivery) -> HookOptions {
    HookOptions::new().with_delivery(delivery)
}

/// Registers the long-lived hooks. None of them listens to the center's own
/// `event_center.*` reports, so nothing moves once the churn and the
/// emitters have stopped and the flush is done.
fn register_long_lived(center: &EventCenter) {
    let pause = |_: &Event| thread::sleep(Duration::from_micros(20));
    center
        .register_hook("ll-inline", "work.*", |_: &Event| {})
        .unwrap();
    center
        .register_hook_with(
            "ll-block",
            ["work.*", "tool.*"],
            options(Delivery::background(64, Overflow::Block)),
            |_: &Event| {},
        )
        .unwrap();
    center
        .register_hook_with(
            "ll-drop-newest",
            ["model.*", "other.*"],
            options(Delivery::background(64, Overflow::DropNewest)),
            pause,
        )
        .unwrap();
    center
        .register_hook_with(
            "ll-drop-oldest",
            "model.*",
            options(Delivery::background(64, Overflow::DropOldest)),
            pause,
        )
        .unwrap();
    center
        .register_hook_with(
            "ll-coalesce",
            ["model.*", "work.*"],
            options(Delivery::coalesce(CoalescePolicy::new())),
            |_: &Event| {},
        )
        .unwrap();
    center
        .register_hook_with(
            "ll-failing",
            "tool.*",
            options(Delivery::background(256, Overflow::Block)),
            |e: &Event| {
                if e.payload.as_u64().unwrap().is_multiple_of(7) {
                    Err(std::io::Error::other("rejected"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap();
    center
        .register_async_hook("ll-async-inline", "tool.*", |_: Arc<Event>| async {})
        .unwrap();
    center
        .register_async_hook_with(
            "ll-async-drop-oldest",
            "work.*",
            options(Delivery::background(128, Overflow::DropOldest)),
            |_: Arc<Event>| async {},
        )
        .unwrap();
}

/// Registers churned hook number `round`: every delivery kind in turn, sync
/// and async, on patterns that include the center's own reports.
fn register_churned(center: &EventCenter, round: usize) {
    let name = format!("churn-{round}");
    let patterns: Patterns = match round % 5 {
        0 => "work.*".into(),
        1 => "model.*".into(),
        2 => Patterns::All,
        3 => ["tool.*", "event_center.*"].into(),
        _ => ["*.delta", "other.*", "work.item"].into(),
    };
    let delivery = match (round / 2) % 6 {
        0 => Delivery::Inline,
        1 => Delivery::background(16, Overflow::Block),
        2 => Delivery::background(16, Overflow::DropNewest),
        3 => Delivery::background(16, Overflow::DropOldest),
        4 => Delivery::coalesce(CoalescePolicy::new().with_max_items(8)),
        _ => Delivery::Coalesce {
            policy: CoalescePolicy::new(),
            capacity: 32,
            overflow: Overflow::DropOldest,
        },
    };
    let registered = if round.is_multiple_of(2) {
        center.register_hook_with(name, patterns, options(delivery), |_: &Event| {})
    } else {
        center.register_async_hook_with(name, patterns, options(delivery), |_: Arc<Event>| async {})
    };
    registered.unwrap();
}

fn assert_accounted(h: &HookStats) {
    assert_eq!(
        h.accepted,
        h.delivered + h.failed + h.dropped.total() + h.pending,
        "{h:?}"
    );
}

/// Names of this process's threads that are hook workers (named
/// `event-center-hook-<hook>`, cut to 15 bytes by the kernel).
fn hook_worker_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0; // not Linux: nothing to check
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.starts_with("event-center-ho"))
        .count()
}

/// Joins `thread`, failing the test if it has not finished by `deadline`
/// (a deadlocked emitter must not hang the test).
fn join_by<T>(thread: thread::JoinHandle<T>, deadline: Instant) -> T {
    while !thread.is_finished() {
        assert!(Instant::now() < deadline, "a thread did not finish in time");
        thread::sleep(Duration::from_millis(5));
    }
    thread.join().unwrap()
}

#[test]
fn accounting_holds_under_churn() {
    // It sets or measures what the whole process shares.
    if crate::support::alone::ran_in_own_process(module_path!(), "accounting_holds_under_churn") {
        return;
    }
    let started = Instant::now();
    let center = EventCenter::new();
    register_long_lived(&center);

    let barrier = Arc::new(Barrier::new(EMITTERS + 1));
    let emitting = Arc::new(AtomicBool::new(true));
    let emitters: Vec<_> = (0..EMITTERS)
        .map(|t| {
            let center = center.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let emitter = center.emitter(format!("Emitter{t}"));
                let mut sent = Sent::default();
                barrier.wait();
                for n in 0..PER_EMITTER {
                    let kind = n as usize % TYPES.len();
                    emitter.emit(TYPES[kind]).payload(n).send();
                    sent.per_type[kind] += 1;
                    sent.sevens[kind] += u64::from(n % 7 == 0);
                }
                sent
            })
        })
        .collect();

    let churner = {
        let center = center.clone();
        let emitting = emitting.clone();
        let barrier = barrier.clone();
        thread::spawn(move || {
            const ALIVE: usize = 4;
            barrier.wait();
            let mut round = 0;
            while emitting.load(Ordering::SeqCst) {
                register_churned(&center, round);
                if round >= ALIVE {
                    assert!(center.unregister_hook(&format!("churn-{}", round - ALIVE)));
                }
                round += 1;
                // Let some events reach each churned hook before it goes.
                thread::sleep(Duration::from_micros(500));
            }
            for r in round.saturating_sub(ALIVE)..round {
                assert!(center.unregister_hook(&format!("churn-{r}")));
            }
            round
        })
    };

    // Generous: about 12 s on a loaded 2-core machine in debug mode.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut sent = Sent::default();
    for e in emitters {
        let s = join_by(e, deadline);
        for i in 0..TYPES.len() {
            sent.per_type[i] += s.per_type[i];
            sent.sevens[i] += s.sevens[i];
        }
    }
    let emitted = started.elapsed();
    emitting.store(false, Ordering::SeqCst);
    let rounds = join_by(churner, Instant::now() + Duration::from_secs(30));
    assert_eq!(
        sent.per_type.iter().sum::<u64>(),
        EMITTERS as u64 * PER_EMITTER
    );

    let report = center.flush(Duration::from_secs(30));
    println!(
        "emitted {} events in {emitted:?} over {rounds} churn rounds; flush: {} hooks, {:?}",
        EMITTERS as u64 * PER_EMITTER,
        report.hooks.len(),
        report.elapsed
    );
    assert!(report.is_complete(), "the flush timed out: {report:?}");
    assert!(rounds > 10, "the churner hardly ran: {rounds} rounds");

    // Every hook with a queue, churned ones still draining included.
    assert_eq!(
        report.accepted,
        report.delivered + report.failed + report.dropped + report.pending,
        "{report:?}"
    );
    for h in &report.hooks {
        assert_accounted(h);
        assert_eq!(h.pending, 0, "{h:?}");
    }

    // Every registered hook: only the long-lived ones are left.
    let stats = center.stats();
    let names: Vec<&str> = stats.hooks.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ll-inline",
            "ll-block",
            "ll-drop-newest",
            "ll-drop-oldest",
            "ll-coalesce",
            "ll-failing",
            "ll-async-inline",
            "ll-async-drop-oldest",
        ]
    );
    for h in &stats.hooks {
        assert_accounted(h);
        assert_eq!(h.pending, 0, "{h:?}");
        assert!(h.registered, "{h:?}");
    }
    let hook = |name: &str| stats.hooks.iter().find(|h| h.name == name).unwrap();
    let matched = |kinds: &[usize]| kinds.iter().map(|&k| sent.per_type[k]).sum::<u64>();
    let exact = |name: &str, expected: u64, failed: u64| {
        let h = hook(name);
        assert_eq!(
            (h.accepted, h.delivered, h.failed, h.dropped.total()),
            (expected, expected - failed, failed, 0),
            "{h:?}"
        );
    };
    exact("ll-inline", matched(&[WORK]), 0);
    exact("ll-block", matched(&[WORK, TOOL]), 0);
    exact("ll-coalesce", matched(&[WORK, DELTA, MODEL]), 0);
    exact("ll-failing", matched(&[TOOL]), sent.sevens[TOOL]);
    exact("ll-async-inline", matched(&[TOOL]), 0);
    for (name, expected) in [
        ("ll-drop-newest", matched(&[DELTA, MODEL, TYPES.len() - 1])),
        ("ll-drop-oldest", matched(&[DELTA, MODEL])),
        ("ll-async-drop-oldest", matched(&[WORK])),
    ] {
        let h = hook(name);
        assert_eq!(h.accepted, expected, "{h:?}");
        assert_eq!(h.failed, 0, "{h:?}");
    }
    assert_eq!(stats.hook_failures, sent.sevens[TOOL]);
    assert_eq!(stats.recursion_cut, 0);

    // Shutdown ends every worker, those of unregistered hooks included.
    let report = center.shutdown(Duration::from_secs(30));
    assert!(report.is_complete(), "{report:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while hook_worker_threads() > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        hook_worker_threads(),
        0,
        "hook worker threads outlived shutdown"
    );
    println!("total {:?}", started.elapsed());
}
