//! The JSONL sink writes each event it receives as exactly one line, the
//! JSON the crate's `Event` serializes to; each line parses back (with
//! `Event::parse` and with `read_jsonl`) to the same event, in emit order,
//! newlines inside strings included.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{read_jsonl, ErrorInfo, Event, EventCenter, JsonlSink, Level, RunContext};
use serde_json::json;

#[test]
fn every_line_is_one_event_that_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();

    // What the hooks see, to compare with the file.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    center
        .register_hook("recorder", "*", move |e: &Event| {
            keep.lock().unwrap().push(e.clone())
        })
        .unwrap();
    let guard = JsonlSink::builder(&path)
        .register(&center, "jsonl")
        .unwrap();

    let run = RunContext::new("agent_execution").with_agent_name("planner");
    let emitter = center.emitter("Planner").with_meta("tenant", "demo");
    for i in 0..500 {
        emitter
            .emit("model.completed")
            .run(run.child("model_request"))
            .message(format!("line one\nline two {i}"))
            .payload(json!({"i": i, "text": "quote \" and\ttab", "nested": {"ok": true}}))
            .send();
    }
    emitter
        .emit("tool.failed")
        .level(Level::Error)
        .error(ErrorInfo::new("Timeout", "took too long").with_retryable(true))
        .send();
    let report = guard.flush(Duration::from_secs(10));
    assert!(report.is_complete());

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let seen = seen.lock().unwrap();
    assert_eq!(lines.len(), 501);
    assert_eq!(seen.len(), 501);
    assert!(text.ends_with('\n'));
    for (line, event) in lines.iter().zip(seen.iter()) {
        assert_eq!(line, &serde_json::to_string(event).unwrap());
        assert_eq!(&Event::parse(line).unwrap(), event);
    }

    let read = read_jsonl(&path).unwrap();
    assert_eq!(read.events, *seen);
    assert!(read.bad_lines.is_empty());
    assert!(!read.truncated_tail);
    assert_eq!(guard.stats().written, 501);
    assert_eq!(guard.stats().lost, 0);
}
