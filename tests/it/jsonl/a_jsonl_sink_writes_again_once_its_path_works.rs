//! A JSONL sink whose directory disappears (here: replaced by a regular
//! file, which stops even root) reports the failed rotation and writes as
//! hook failures and lost events, without panicking; once the path works
//! again it reopens the file and writes the later events.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{read_jsonl, Event, EventCenter, JsonlSink};
use serde_json::json;

#[test]
fn the_sink_reopens_its_file_once_the_path_works_again() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs");
    let path = sub.join("events.jsonl");
    let center = EventCenter::new();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let keep = failures.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            keep.lock()
                .unwrap()
                .push(e.message.as_deref().unwrap_or("").to_owned())
        })
        .unwrap();
    let guard = JsonlSink::builder(&path)
        .with_patterns("work.*")
        .with_rotation(2_000, 2)
        .with_flush_interval(Duration::from_secs(3600))
        .register(&center, "jsonl")
        .unwrap();
    let emitter = center.emitter("Agent");
    let emit = |phase: &str, count: u64| {
        for i in 0..count {
            emitter
                .emit("work.step")
                .payload(json!({"phase": phase, "i": i}))
                .send();
        }
    };

    emit("before", 5);
    guard.flush(Duration::from_secs(10));
    assert_eq!(guard.stats().written, 5);

    // The directory becomes a regular file: rotating, reopening and
    // creating the directory all fail.
    std::fs::remove_dir_all(&sub).unwrap();
    std::fs::write(&sub, "not a directory").unwrap();
    emit("broken", 40);
    guard.flush(Duration::from_secs(10));
    let broken = guard.stats();
    let last = broken.last_error.as_deref().unwrap();
    assert!(last.contains("events.jsonl"), "{last}");
    assert!(broken.lost > 0, "{broken:?}");
    assert!(broken.errors >= 2, "{broken:?}");
    let failed = center
        .stats()
        .hooks
        .iter()
        .find(|h| h.name == "jsonl")
        .unwrap()
        .failed;
    assert!(failed >= 1);
    assert!(failures.lock().unwrap()[0].contains("events.jsonl"));

    // The path works again: the sink recreates the directory and the file.
    std::fs::remove_file(&sub).unwrap();
    emit("after", 5);
    guard.flush(Duration::from_secs(10));
    let read = read_jsonl(&path).unwrap();
    let phases: Vec<&str> = read
        .events
        .iter()
        .map(|e| e.payload["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["after"; 5]);
    assert_eq!(guard.stats().lost, broken.lost);
    assert_eq!(guard.stats().buffered, 0);
}
