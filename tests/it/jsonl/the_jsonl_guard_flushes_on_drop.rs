//! Dropping the guard `JsonlSinkBuilder::register` returns waits for the sink's
//! queue, writes every buffered line and unregisters the sink: right after
//! the drop, the file holds every event emitted before it, even with a
//! flush interval far longer than the test.

use std::time::Duration;

use event_center::{read_jsonl, Event, EventCenter, JsonlSink};

#[test]
fn dropping_the_guard_writes_every_event_and_unregisters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();
    // Another hook, which stays registered.
    center.register_hook("other", "*", |_: &Event| {}).unwrap();
    let guard = JsonlSink::builder(&path)
        .with_flush_interval(Duration::from_secs(3600))
        .register(&center, "jsonl")
        .unwrap();

    let emitter = center.emitter("Agent");
    for i in 0..3_000 {
        emitter
            .emit("model.delta")
            .payload(serde_json::json!({ "i": i }))
            .send();
    }
    // Nothing forced the buffer out yet: lines are written in blocks.
    let before = std::fs::metadata(&path).unwrap().len();
    drop(guard);

    let read = read_jsonl(&path).unwrap();
    assert_eq!(read.events.len(), 3_000, "{before} bytes before the drop");
    let numbers: Vec<u64> = read
        .events
        .iter()
        .map(|e| e.payload["i"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (0..3_000).collect::<Vec<_>>());
    assert_eq!(center.hook_names(), ["other"]);

    // Events after the drop are not written.
    emitter.emit("model.delta").send();
    center.flush(Duration::from_secs(5));
    assert_eq!(read_jsonl(&path).unwrap().events.len(), 3_000);
}
