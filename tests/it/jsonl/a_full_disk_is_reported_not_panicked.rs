//! A JSONL sink whose writes fail (`/dev/full` answers every write with
//! ENOSPC, whoever runs the test) never panics and never reaches the
//! emitter: the failed writes are counted by the center as hook failures
//! and reported as `event_center.hook_failed` events naming the file, the
//! sink counts every lost event, other hooks get every event, and the sink
//! keeps trying at its next writes. A write that fails in the guard's flush
//! is counted by the sink at once and returned by the hook's next call.

#![cfg(all(feature = "jsonl", target_os = "linux"))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Event, EventCenter, JsonlSink};
use serde_json::json;

const EVENTS: u64 = 5_000;

#[test]
fn a_full_disk_is_counted_and_reported_and_the_emitter_goes_on() {
    let center = EventCenter::new();
    let others = Arc::new(AtomicU64::new(0));
    let count = others.clone();
    center
        .register_hook("other", "model.*", move |_: &Event| {
            count.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let keep = failures.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            keep.lock().unwrap().push(e.clone())
        })
        .unwrap();

    let guard = JsonlSink::builder("/dev/full")
        .with_patterns("model.*")
        .register(&center, "jsonl")
        .expect("/dev/full opens");

    let emitter = center.emitter("Agent");
    for i in 0..EVENTS {
        emitter
            .emit("model.delta")
            .payload(json!({"i": i, "text": "some tokens of a streamed answer"}))
            .send();
    }
    let report = center.flush(Duration::from_secs(30));
    assert!(report.is_complete());
    let report = guard.flush(Duration::from_secs(30));
    assert!(report.is_complete());
    assert_eq!(report.accepted, EVENTS);

    // Every event reached the other hook.
    assert_eq!(others.load(Ordering::Relaxed), EVENTS);

    // The sink: nothing written, every event lost and counted, the last
    // error (the flush's) naming the file and the cause.
    let stats = guard.stats();
    assert_eq!(stats.written, 0);
    assert_eq!(stats.lost, EVENTS, "{stats:?}");
    assert_eq!(stats.buffered, 0);
    assert!(stats.errors >= 2, "{stats:?}");
    let last = stats.last_error.as_deref().unwrap();
    assert!(
        last.contains("cannot write to JSONL file `/dev/full`"),
        "{last}"
    );
    assert!(last.contains("os error 28"), "{last}"); // ENOSPC

    // The center: one failure per failed write of the hook's calls
    // (several, as the sink kept trying), each reported.
    let hook = |center: &EventCenter| {
        center
            .stats()
            .hooks
            .into_iter()
            .find(|h| h.name == "jsonl")
            .unwrap()
    };
    let before = hook(&center);
    assert_eq!(before.accepted, EVENTS);
    assert!(before.failed >= 2, "{before:?}");
    assert_eq!(before.delivered + before.failed, EVENTS);
    assert_eq!(before.failed, report.failed);
    {
        let failures = failures.lock().unwrap();
        assert_eq!(failures.len() as u64, before.failed);
        let first = &failures[0];
        assert_eq!(first.payload["hook"], "jsonl");
        let message = first.message.as_deref().unwrap();
        assert!(message.contains("/dev/full"), "{message}");
        assert!(message.contains("lost"), "{message}");
    }

    // The flush's failure is returned by the hook's next call: the center
    // counts and reports it then.
    emitter.emit("model.delta").send();
    let report = guard.flush(Duration::from_secs(30));
    assert_eq!(report.failed, before.failed + 1, "{report:?}");
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len() as u64, before.failed + 1);
    let message = failures.last().unwrap().message.as_deref().unwrap();
    assert!(message.contains("/dev/full"), "{message}");
}
