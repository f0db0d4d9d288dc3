//! The center stamps every event it delivers with a `seq` of its own:
//! emitted events from any emitter or thread, dict emits (whatever `seq` the
//! JSON carried), `action.*` events and their `tool.*` twins, and the
//! center's own `event_center.hook_failed` reports. A `*` hook sees each seq
//! once, the seqs of one thread's emits in increasing order, and
//! `stats().last_seq` is the highest.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow, Patterns};

use crate::support::panics::quiet_expected_panics;
use serde_json::json;

const THREADS: usize = 4;
const ROUNDS: usize = 150;
const BOOM: &str = "seq test hook failure";
/// Far above any seq this test can reach.
const FOREIGN_SEQ: u64 = 1_000_000_000;

/// A hook that always panics.
fn fail(_: &Event) {
    panic!("{}", BOOM);
}

#[derive(Clone, Debug)]
struct Seen {
    thread: ThreadId,
    seq: u64,
    event_type: String,
    /// The emitting thread's number, carried in the payload.
    tag: Option<u64>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn recorder(center: &EventCenter, name: &str, options: HookOptions) -> Log {
    let log: Log = Arc::default();
    let sink = log.clone();
    center
        .register_hook_with(name.to_owned(), Patterns::All, options, move |e: &Event| {
            sink.lock().unwrap().push(Seen {
                thread: std::thread::current().id(),
                seq: e.seq,
                event_type: e.event_type.to_string(),
                tag: e.payload.get("thread").and_then(|t| t.as_u64()),
            });
        })
        .unwrap();
    log
}

/// One round of every kind of emit from thread `t`; returns how many events
/// it makes the `*` hook receive.
fn one_round(center: &EventCenter, t: u64, round: usize) -> usize {
    let emitter = center.emitter(format!("emitter-{t}"));
    let other = center.emitter("shared").with_meta("kind", "second emitter");
    emitter
        .emit("work.item")
        .payload(json!({"thread": t, "round": round}))
        .send();
    other
        .emit("work.other")
        .payload(json!({"thread": t}))
        .send();
    // A dict emit carrying a seq of its own, and one carrying 0.
    center
        .emit_json(json!({
            "event_type": "dict.item",
            "seq": FOREIGN_SEQ + round as u64,
            "payload": {"thread": t},
        }))
        .unwrap();
    center
        .emit_json(json!({"event_type": "dict.item", "seq": 0, "payload": {"thread": t}}))
        .unwrap();
    // A built event carrying a seq too.
    let mut event = Event::new("replayed.item").with_payload(json!({"thread": t}));
    event.seq = FOREIGN_SEQ;
    center.emit_event(event);
    // A primary and its twin.
    emitter
        .emit("action.loop_started")
        .payload(json!({"thread": t}))
        .send();
    // A failure, reported as `event_center.hook_failed`.
    emitter
        .emit("work.fail")
        .payload(json!({"thread": t}))
        .send();
    // work.item, work.other, 2 dict.item, replayed.item, action + tool twin,
    // work.fail + hook_failed.
    9
}

#[test]
fn seqs_are_unique_increasing_per_thread_and_end_at_last_seq() {
    quiet_expected_panics(BOOM);
    let center = EventCenter::new();
    // Registered first, so it receives each event before the failing hook
    // runs: a report emitted during an event's fan-out reaches the hooks
    // registered after the failing one before the event itself does.
    let inline = recorder(&center, "all-inline", HookOptions::new());
    let queued = recorder(
        &center,
        "all-queued",
        HookOptions::new().with_delivery(Delivery::background(1 << 16, Overflow::Block)),
    );
    center.register_hook("failing", "work.fail", fail).unwrap();

    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let center = center.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut expected = 0;
                for round in 0..ROUNDS {
                    expected += one_round(&center, t, round);
                }
                (std::thread::current().id(), expected)
            })
        })
        .collect();
    let expected: Vec<(ThreadId, usize)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let total: usize = expected.iter().map(|(_, n)| n).sum();
    let report = center.flush(Duration::from_secs(10));
    assert_eq!(report.pending, 0);

    let inline = inline.lock().unwrap().clone();
    let queued = queued.lock().unwrap().clone();
    assert_eq!(inline.len(), total);
    assert_eq!(queued.len(), total);

    // Unique, non-zero, never the seq the input carried.
    let seqs: HashSet<u64> = inline.iter().map(|s| s.seq).collect();
    assert_eq!(seqs.len(), total, "a seq was given twice");
    assert!(!seqs.contains(&0));
    let highest = *seqs.iter().max().unwrap();
    assert!(highest < FOREIGN_SEQ, "an input seq was kept: {highest}");
    assert_eq!(center.stats().last_seq, highest);
    let queued_seqs: HashSet<u64> = queued.iter().map(|s| s.seq).collect();
    assert_eq!(queued_seqs, seqs, "both hooks see the same seqs");

    // Inline: called on the emitting thread, in the order it emitted.
    let mut by_thread: HashMap<ThreadId, Vec<&Seen>> = HashMap::new();
    for seen in &inline {
        by_thread.entry(seen.thread).or_default().push(seen);
    }
    for (thread, n) in &expected {
        let seen = &by_thread[thread];
        assert_eq!(seen.len(), *n);
        for pair in seen.windows(2) {
            assert!(
                pair[0].seq < pair[1].seq,
                "{:?}: {} ({}) then {} ({})",
                thread,
                pair[0].seq,
                pair[0].event_type,
                pair[1].seq,
                pair[1].event_type
            );
        }
        let types: HashSet<&str> = seen.iter().map(|s| s.event_type.as_str()).collect();
        for kind in [
            "work.item",
            "dict.item",
            "replayed.item",
            "tool.loop_started",
            "event_center.hook_failed",
        ] {
            assert!(types.contains(kind), "{kind} missing");
        }
    }

    // Queued (FIFO per hook): each thread's events, by the thread number in
    // their payload, still in increasing seq order.
    let mut by_tag: HashMap<u64, Vec<u64>> = HashMap::new();
    for seen in &queued {
        if let Some(tag) = seen.tag {
            by_tag.entry(tag).or_default().push(seen.seq);
        }
    }
    assert_eq!(by_tag.len(), THREADS);
    for (tag, seqs) in by_tag {
        assert_eq!(seqs.len(), ROUNDS * 8, "thread {tag}");
        assert!(
            seqs.windows(2).all(|p| p[0] < p[1]),
            "thread {tag}: queued delivery out of seq order"
        );
    }
}

#[test]
fn a_dict_emit_gets_the_centers_seq_not_its_own() {
    let center = EventCenter::new();
    let log = recorder(&center, "all", HookOptions::new());
    center.emitter("S").emit("a.first").send();
    center
        .emit_json(json!({"event_type": "a.second", "seq": 1}))
        .unwrap();
    center
        .emit_json(json!({"event_type": "a.third", "seq": u64::MAX}))
        .unwrap();
    center
        .emit_json(json!({"event_type": "a.fourth", "seq": 2}))
        .unwrap();
    let seqs: Vec<u64> = log.lock().unwrap().iter().map(|s| s.seq).collect();
    assert_eq!(seqs.len(), 4);
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    assert!(seqs[0] > 0 && seqs[3] < u64::MAX, "{seqs:?}");
    assert_eq!(center.stats().last_seq, seqs[3]);
}
