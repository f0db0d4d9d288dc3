//! With rotation, the sink moves `events.jsonl` to `events.jsonl.1` (and on
//! down, deleting the oldest) before a line would take it past `max_bytes`:
//! at most `max_files` files exist, each holds whole lines only and stays
//! within `max_bytes`, and the kept files hold the newest events, in order,
//! with none missing between them.

use std::path::Path;
use std::time::Duration;

use event_center::{read_jsonl, EventCenter, JsonlSink};
use serde_json::json;

const MAX_BYTES: u64 = 4_096;
const MAX_FILES: usize = 3;

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn rotation_keeps_at_most_max_files_of_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();
    let guard = JsonlSink::builder(&path)
        .with_rotation(MAX_BYTES, MAX_FILES)
        .register(&center, "jsonl")
        .unwrap();

    let emitter = center.emitter("Agent");
    for i in 0..1_000u64 {
        // Lines of varying length, so file ends fall at different places.
        let pad = "x".repeat((i % 37) as usize * 5);
        emitter
            .emit("model.delta")
            .payload(json!({"i": i, "pad": pad}))
            .send();
    }
    guard.flush(Duration::from_secs(10));
    let stats = guard.stats();
    drop(guard);

    assert_eq!(
        files_in(dir.path()),
        ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    );
    assert!(stats.rotations > 10, "{stats:?}");
    assert_eq!(stats.written, 1_000);

    // Oldest file first: the kept events are consecutive and end with the last.
    let mut numbers = Vec::new();
    for name in ["events.jsonl.2", "events.jsonl.1", "events.jsonl"] {
        let file = dir.path().join(name);
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            bytes.len() as u64 <= MAX_BYTES,
            "{name}: {} bytes",
            bytes.len()
        );
        assert_eq!(bytes.last(), Some(&b'\n'), "{name} ends inside a line");
        let read = read_jsonl(&file).unwrap();
        assert!(read.bad_lines.is_empty(), "{name}: {:?}", read.bad_lines);
        assert!(!read.truncated_tail, "{name}");
        numbers.extend(read.events.iter().map(|e| e.payload["i"].as_u64().unwrap()));
    }
    assert_eq!(numbers.last(), Some(&999));
    let first = numbers[0];
    assert!(first > 0, "the oldest files were deleted");
    assert_eq!(numbers, (first..1_000).collect::<Vec<_>>());
}

#[test]
fn a_line_longer_than_max_bytes_gets_a_file_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let center = EventCenter::new();
    let guard = JsonlSink::builder(&path)
        .with_rotation(256, 5)
        .register(&center, "jsonl")
        .unwrap();
    let emitter = center.emitter("Agent");
    emitter.emit("a.small").send();
    emitter
        .emit("a.huge")
        .payload(json!("y".repeat(1_000)))
        .send();
    emitter.emit("a.small_again").send();
    guard.flush(Duration::from_secs(10));
    drop(guard);

    let types = |name: &str| -> Vec<String> {
        read_jsonl(dir.path().join(name))
            .unwrap()
            .events
            .iter()
            .map(|e| e.event_type.to_string())
            .collect()
    };
    assert_eq!(types("events.jsonl.2"), ["a.small"]);
    assert_eq!(types("events.jsonl.1"), ["a.huge"]);
    assert_eq!(types("events.jsonl"), ["a.small_again"]);
}
