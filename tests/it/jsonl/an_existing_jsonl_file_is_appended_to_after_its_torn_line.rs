//! A sink opened on an existing file appends to it; if the file ends inside
//! a line (a writer that crashed mid-line), the sink ends that line first,
//! so its own first line stays whole: the reader then reports the torn
//! line as one bad line and keeps every event before and after it.

use event_center::{read_jsonl, Event, EventCenter, JsonlSink};

#[test]
fn new_lines_start_after_the_torn_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let old = serde_json::to_string(&Event::new("old.one")).unwrap();
    std::fs::write(&path, format!("{old}\n{}", &old[..20])).unwrap();

    let center = EventCenter::new();
    let guard = JsonlSink::builder(&path)
        .register(&center, "jsonl")
        .unwrap();
    center.emitter("Agent").emit("new.one").send();
    center.emitter("Agent").emit("new.two").send();
    drop(guard);

    let read = read_jsonl(&path).unwrap();
    let types: Vec<&str> = read.events.iter().map(|e| &*e.event_type).collect();
    assert_eq!(types, ["old.one", "new.one", "new.two"]);
    assert_eq!(read.bad_lines.len(), 1);
    assert_eq!(read.bad_lines[0].line, 2);
    assert!(!read.truncated_tail);
}
