//! A JSONL sink whose writes fail (`/dev/full` answers every write with
//! ENOSPC, whoever runs the test) never panics and never reaches the
//! emitter: the failed writes are counted by the center as hook failures
//! and reported as `event_center.hook_failed` events naming the file, the
//! sink counts every lost event, other hooks get every event, and the sink
//! keeps trying at its next writes.

#![cfg(all(feature = "jsonl", target_os = "linux"))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, JsonlErrorKind, JsonlSink};
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
        .build()
        .expect("/dev/full opens")
        .register(&center, "jsonl")
        .unwrap();

    let emitter = center.emitter("Agent");
    for i in 0..EVENTS {
        emitter
            .emit("model.delta")
            .payload(json!({"i": i, "text": "some tokens of a streamed answer"}))
            .send();
    }
    let report = center.flush(std::time::Duration::from_secs(30));
    assert!(report.is_complete());
    let err = guard.flush().unwrap_err();
    assert_eq!(err.kind(), &JsonlErrorKind::Write);
    assert_eq!(
        err.io_error().and_then(|e| e.raw_os_error()),
        Some(28), // ENOSPC
    );
    assert!(err.to_string().contains("/dev/full"), "{err}");

    // Every event reached the other hook.
    assert_eq!(others.load(Ordering::Relaxed), EVENTS);

    // The sink: nothing written, every event lost and counted.
    let stats = guard.stats();
    assert_eq!(stats.written, 0);
    assert_eq!(stats.lost, EVENTS, "{stats:?}");
    assert_eq!(stats.buffered, 0);
    assert!(stats.errors >= 2, "{stats:?}");

    // The center: one failure per failed write of the hook's calls
    // (several, as the sink kept trying), each reported.
    let hook = center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == "jsonl")
        .unwrap();
    assert_eq!(hook.accepted, EVENTS);
    assert!(hook.failed >= 2, "{hook:?}");
    assert_eq!(hook.delivered + hook.failed, EVENTS);
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len() as u64, hook.failed);
    let first = &failures[0];
    assert_eq!(first.payload["hook"], "jsonl");
    let message = first.message.as_deref().unwrap();
    assert!(message.contains("/dev/full"), "{message}");
    assert!(message.contains("lost"), "{message}");
}
