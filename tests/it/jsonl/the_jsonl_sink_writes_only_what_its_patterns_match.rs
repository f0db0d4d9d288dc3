//! A JSONL sink with patterns writes only the events they match (aliases
//! included, like any hook), and nothing the others.

use std::time::Duration;

use event_center::{read_jsonl, EventCenter, JsonlSink};

#[test]
fn only_matching_events_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();
    let guard = JsonlSink::builder(&path)
        .with_patterns(["model.*", "triggerflow.execution_started"])
        .register(&center, "jsonl")
        .unwrap();
    let emitter = center.emitter("Agent");
    emitter.emit("model.requested").send();
    emitter.emit("tool.called").send();
    emitter.emit("workflow.execution_started").send(); // legacy alias
    emitter.emit("runtime.info").send();
    emitter.emit("model.completed").send();
    guard.flush(Duration::from_secs(10));

    let types: Vec<String> = read_jsonl(&path)
        .unwrap()
        .events
        .iter()
        .map(|e| e.event_type.to_string())
        .collect();
    assert_eq!(
        types,
        [
            "model.requested",
            "workflow.execution_started",
            "model.completed"
        ]
    );
    assert_eq!(guard.stats().written, 3);
}
