//! Entries are ordered by the events' timestamps, then by their `seq` (the
//! center's total order), then by input order, whatever order the events
//! arrive in.

use event_center::{Event, Transcript, TranscriptMapping};
use serde_json::json;

fn event(t: i64, seq: u64, name: &str) -> Event {
    let mut event = Event::new("custom.step")
        .with_timestamp(t)
        .with_payload(json!(name));
    event.seq = seq;
    event
}

#[test]
fn transcript_entries_are_ordered_by_timestamp_then_seq() {
    let events = [
        event(20, 1, "d"),
        event(10, 9, "c"),
        event(10, 2, "b"),
        event(5, 30, "a"),
        event(20, 0, "d-unsequenced-first"),
        event(30, 0, "e1"),
        event(30, 0, "e2"),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    let order: Vec<&str> = transcript
        .entries()
        .iter()
        .map(|e| e.attributes["details"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["a", "b", "c", "d-unsequenced-first", "d", "e1", "e2"]
    );
}
