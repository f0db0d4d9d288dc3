//! A background hook receives the events of each emitting thread (or task)
//! in the order they were emitted, whether its queue blocks or evicts, and
//! whether the emitters are plain threads or tasks on a multi-threaded tokio
//! runtime using `send()` and `send_async().await`. The `seq` the center
//! stamps is strictly increasing along each emitter's events and unique
//! across the center.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
use serde_json::json;

const SOURCES: u64 = 4;
const PER_SOURCE: u64 = 5_000;

/// What a hook saw: (source, number, seq), in arrival order.
type Seen = Arc<Mutex<Vec<(u64, u64, u64)>>>;

fn record(seen: &Seen, e: &Event) {
    let source = e.payload["source"].as_u64().unwrap();
    let n = e.payload["n"].as_u64().unwrap();
    seen.lock().unwrap().push((source, n, e.seq));
}

/// The hooks under test: one sync hook behind a small blocking queue, one
/// behind a big evicting queue, and one async hook behind a blocking queue.
fn register_hooks(center: &EventCenter) -> Vec<(&'static str, Seen)> {
    let hooks: Vec<(&'static str, Seen)> = vec![
        ("block", Seen::default()),
        ("drop-oldest", Seen::default()),
        ("async-block", Seen::default()),
    ];
    let options = |capacity, overflow| {
        HookOptions::new().with_delivery(Delivery::background(capacity, overflow))
    };
    let sink = hooks[0].1.clone();
    center
        .register_hook_with(
            "block",
            "work.*",
            options(16, Overflow::Block),
            move |e: &Event| record(&sink, e),
        )
        .unwrap();
    let sink = hooks[1].1.clone();
    center
        .register_hook_with(
            "drop-oldest",
            "work.*",
            options(1_000_000, Overflow::DropOldest),
            move |e: &Event| record(&sink, e),
        )
        .unwrap();
    let sink = hooks[2].1.clone();
    center
        .register_async_hook_with(
            "async-block",
            "work.*",
            options(16, Overflow::Block),
            move |e: Arc<Event>| {
                let sink = sink.clone();
                async move { record(&sink, &e) }
            },
        )
        .unwrap();
    hooks
}

/// Drains the hooks, then checks each one got every event once, in emit
/// order per source, with `seq` increasing per source and unique overall.
fn check(center: &EventCenter, hooks: &[(&'static str, Seen)]) {
    let report = center.flush(Duration::from_secs(30));
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.dropped + report.failed, 0, "{report:?}");

    let mut seq_of: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    for (name, seen) in hooks {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len() as u64, SOURCES * PER_SOURCE, "{name}");
        let mut per_source: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
        for &(source, n, seq) in seen.iter() {
            per_source.entry(source).or_default().push((n, seq));
            // Every hook sees the same event, so the same seq, for (source, n).
            let first = *seq_of.entry((source, n)).or_insert(seq);
            assert_eq!(first, seq, "{name}: ({source}, {n}) has two seqs");
        }
        assert_eq!(per_source.len() as u64, SOURCES, "{name}");
        for (source, events) in &per_source {
            let numbers: Vec<u64> = events.iter().map(|&(n, _)| n).collect();
            assert!(
                numbers.iter().copied().eq(0..PER_SOURCE),
                "{name}: source {source} arrived out of order or incomplete: first \
                 difference at {:?}",
                numbers
                    .iter()
                    .zip(0..)
                    .find(|(n, i)| **n != *i)
                    .map(|(n, i)| (i, *n))
            );
            for pair in events.windows(2) {
                assert!(
                    pair[0].1 < pair[1].1,
                    "{name}: source {source}: seq {} then {}",
                    pair[0].1,
                    pair[1].1
                );
            }
        }
    }
    let unique: HashSet<u64> = seq_of.values().copied().collect();
    assert_eq!(unique.len() as u64, SOURCES * PER_SOURCE, "seq repeated");
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

fn numbered(source: u64, n: u64) -> serde_json::Value {
    json!({ "source": source, "n": n })
}

#[test]
fn plain_threads_without_a_runtime_keep_their_order() {
    let center = EventCenter::new();
    let hooks = register_hooks(&center);
    let threads: Vec<_> = (0..SOURCES)
        .map(|source| {
            let center = center.clone();
            thread::spawn(move || {
                let emitter = center.emitter("Worker");
                for n in 0..PER_SOURCE {
                    emitter
                        .emit("work.item")
                        .payload(numbered(source, n))
                        .send();
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    for t in threads {
        join_by(t, deadline);
    }
    check(&center, &hooks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_on_a_multi_threaded_runtime_keep_their_order() {
    let center = EventCenter::new();
    let hooks = register_hooks(&center);
    let tasks: Vec<_> = (0..SOURCES)
        .map(|source| {
            let center = center.clone();
            tokio::spawn(async move {
                let emitter = center.emitter("Task");
                for n in 0..PER_SOURCE {
                    let emit = emitter.emit("work.item").payload(numbered(source, n));
                    // Both entry points, interleaved, and a chance to move to
                    // another runtime thread between them.
                    if (n + source) % 2 == 0 {
                        emit.send();
                    } else {
                        emit.send_async().await;
                    }
                    if n % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("an emitting task hung")
            .unwrap();
    }
    let c = center.clone();
    tokio::task::spawn_blocking(move || check(&c, &hooks))
        .await
        .unwrap();
}
