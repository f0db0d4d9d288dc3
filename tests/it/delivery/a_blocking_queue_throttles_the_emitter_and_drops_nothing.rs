//! A background hook with `Overflow::Block` throttles its emitter to the
//! hook's pace and drops nothing. Hooks that emit from their worker into
//! blocking queues (their own, or each other's) never deadlock: an emit
//! from a worker thread queues past the capacity instead of waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, HookOptions, HookStats, Overflow};

/// Runs `f` on its own thread; a deadlock fails the test instead of hanging it.
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: no answer within 30 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the emitting thread panicked"),
    }
}

fn blocking(capacity: usize) -> HookOptions {
    HookOptions::new().with_delivery(Delivery::background(capacity, Overflow::Block))
}

fn stats_of(center: &EventCenter, name: &str) -> HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no hook named {name}"))
}

/// Emits `per_thread` events of `event_type` from each of `threads` threads
/// and joins them.
fn emit_from_threads(center: &EventCenter, threads: usize, per_thread: u64, event_type: &str) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let center = center.clone();
            let event_type = event_type.to_owned();
            thread::spawn(move || {
                let emitter = center.emitter(format!("Emitter{t}"));
                for i in 0..per_thread {
                    emitter.emit(event_type.clone()).payload(i).send();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn a_full_blocking_queue_holds_the_emitter_to_the_hooks_pace() {
    const EVENTS: u64 = 200;
    const CAPACITY: usize = 8;
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with("slow", "work.*", blocking(CAPACITY), move |e: &Event| {
            thread::sleep(Duration::from_millis(1));
            sink.lock().unwrap().push(e.payload.as_u64().unwrap());
        })
        .unwrap();

    let c = center.clone();
    let took = within_30s(move || {
        let emitter = c.emitter("Agent");
        let started = Instant::now();
        for i in 0..EVENTS {
            emitter.emit("work.item").payload(i).send();
        }
        started.elapsed()
    });
    // When the last emit returns, at most a queue-full waits in the queue
    // and at most another is in the worker's hands (it takes the whole queue
    // per wake-up); every other event took the hook at least 1 ms.
    let floor = Duration::from_millis(EVENTS - 2 * CAPACITY as u64);
    println!("{EVENTS} emits into a blocking queue of {CAPACITY}: {took:?}");
    assert!(
        took >= floor,
        "the emitter was not held back: {took:?} < {floor:?}"
    );

    let during = stats_of(&center, "slow");
    assert_eq!(during.dropped.total(), 0, "{during:?}");
    assert!(during.high_water <= CAPACITY as u64, "{during:?}");

    let report = center.flush(Duration::from_secs(30));
    assert!(report.is_complete(), "{report:?}");
    let after = stats_of(&center, "slow");
    assert_eq!(
        (after.accepted, after.delivered, after.failed, after.pending),
        (EVENTS, EVENTS, 0, 0),
        "{after:?}"
    );
    assert_eq!(after.dropped.total(), 0, "{after:?}");
    assert_eq!(*seen.lock().unwrap(), (0..EVENTS).collect::<Vec<_>>());
}

#[test]
fn a_blocking_hook_emitting_into_its_own_full_queue_does_not_deadlock() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 100;
    let center = EventCenter::new();
    let (originals, echoes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (o, e) = (originals.clone(), echoes.clone());
    let handle = center.clone();
    center
        .register_hook_with("echo", "x.*", blocking(1), move |event: &Event| {
            if event.event_type == "x.original" {
                o.fetch_add(1, Ordering::SeqCst);
                // Into this hook's own queue, which is full more often than not.
                handle
                    .emitter("Echo")
                    .emit("x.echo")
                    .payload(event.payload.clone())
                    .send();
            } else {
                e.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();

    let c = center.clone();
    within_30s(move || emit_from_threads(&c, THREADS, PER_THREAD, "x.original"));
    let c = center.clone();
    let report = within_30s(move || c.flush(Duration::from_secs(20)));
    assert!(report.is_complete(), "{report:?}");

    let total = THREADS as u64 * PER_THREAD;
    assert_eq!(originals.load(Ordering::SeqCst), total);
    assert_eq!(echoes.load(Ordering::SeqCst), total);
    let stats = stats_of(&center, "echo");
    assert_eq!(
        (stats.accepted, stats.delivered, stats.failed, stats.pending),
        (2 * total, 2 * total, 0, 0),
        "{stats:?}"
    );
    assert_eq!(stats.dropped.total(), 0, "{stats:?}");
    assert_eq!(center.stats().recursion_cut, 0);
}

#[test]
fn two_blocking_hooks_emitting_into_each_other_do_not_deadlock() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 100;
    let center = EventCenter::new();
    let counts: Arc<Mutex<[u64; 4]>> = Arc::default();

    // A hears a.*, answers a.start with b.from_a; B the other way round.
    for (name, pattern, start, answer, slot) in [
        ("A", "a.*", "a.start", "b.from_a", 0),
        ("B", "b.*", "b.start", "a.from_b", 2),
    ] {
        let handle = center.clone();
        let counts = counts.clone();
        center
            .register_hook_with(name, pattern, blocking(1), move |event: &Event| {
                if event.event_type == start {
                    counts.lock().unwrap()[slot] += 1;
                    handle.emitter(name).emit(answer).send();
                } else {
                    counts.lock().unwrap()[slot + 1] += 1;
                }
            })
            .unwrap();
    }

    let c = center.clone();
    within_30s(move || {
        let a = {
            let c = c.clone();
            thread::spawn(move || emit_from_threads(&c, THREADS / 2, PER_THREAD, "a.start"))
        };
        emit_from_threads(&c, THREADS / 2, PER_THREAD, "b.start");
        a.join().unwrap();
    });
    let c = center.clone();
    let report = within_30s(move || c.flush(Duration::from_secs(20)));
    assert!(report.is_complete(), "{report:?}");

    let each = (THREADS / 2) as u64 * PER_THREAD;
    // [A's starts, A's answers from B, B's starts, B's answers from A]
    assert_eq!(*counts.lock().unwrap(), [each; 4]);
    for name in ["A", "B"] {
        let stats = stats_of(&center, name);
        assert_eq!(
            (stats.accepted, stats.delivered, stats.failed, stats.pending),
            (2 * each, 2 * each, 0, 0),
            "{stats:?}"
        );
        assert_eq!(stats.dropped.total(), 0, "{stats:?}");
    }
    assert_eq!(center.stats().recursion_cut, 0);
}
