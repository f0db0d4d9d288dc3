//! Whatever the fsync policy, every event is in the file once the guard
//! has flushed; `EveryN(n)` fsyncs after every `n` events, `OnFlush` only
//! when flushed, and `Never` never.

use std::time::Duration;

use event_center::{read_jsonl, EventCenter, FsyncPolicy, JsonlSink, JsonlStats};

const EVENTS: u64 = 1_000;

fn run(policy: FsyncPolicy) -> (JsonlStats, JsonlStats, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();
    let guard = JsonlSink::builder(&path)
        .with_fsync(policy)
        .register(&center, "jsonl")
        .unwrap();
    let emitter = center.emitter("Agent");
    for i in 0..EVENTS {
        emitter
            .emit("model.delta")
            .payload(serde_json::json!({ "i": i }))
            .send();
    }
    center.flush(std::time::Duration::from_secs(10));
    let before_flush = guard.stats();
    guard.flush(Duration::from_secs(10));
    let after_flush = guard.stats();
    let read = read_jsonl(&path).unwrap();
    assert!(read.bad_lines.is_empty() && !read.truncated_tail);
    (before_flush, after_flush, read.events.len())
}

#[test]
fn every_n_syncs_every_n_events_and_keeps_them_all() {
    let (before, after, lines) = run(FsyncPolicy::EveryN(100));
    assert_eq!(lines as u64, EVENTS);
    assert_eq!(before.fsyncs, EVENTS / 100);
    assert_eq!(before.written, EVENTS); // each sync wrote its events first
    assert_eq!(after.written, EVENTS);
}

#[test]
fn on_flush_syncs_once_on_flush_and_keeps_them_all() {
    let (before, after, lines) = run(FsyncPolicy::OnFlush);
    assert_eq!(lines as u64, EVENTS);
    assert_eq!(before.fsyncs, 0);
    assert_eq!(after.fsyncs, 1);
    assert_eq!(after.written, EVENTS);
}

#[test]
fn never_does_not_sync_but_flush_still_writes() {
    let (_, after, lines) = run(FsyncPolicy::Never);
    assert_eq!(lines as u64, EVENTS);
    assert_eq!(after.fsyncs, 0);
    assert_eq!(after.written, EVENTS);
}
