//! Agently's captured events (the interop vectors) map to the transcript in
//! `tests/golden/wayfound/agently_transcript.json`: log lines as developer
//! messages, model completions as assistant messages, the action start and
//! end as one tool call, the plan as a reasoning step, mirrored `tool.*`
//! twins dropped, everything else as custom events with their payload.

use event_center::{Event, Transcript, TranscriptMapping};
use serde_json::Value;

const AGENTLY_EVENTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/agently_events.jsonl"
));
const GOLDEN: &str = include_str!("../../golden/wayfound/agently_transcript.json");

#[test]
fn agently_events_map_to_the_expected_wayfound_transcript() {
    let events: Vec<Event> = AGENTLY_EVENTS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| Event::parse(line).unwrap())
        .collect();
    assert_eq!(events.len(), 21);
    let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
    let actual = serde_json::to_value(&transcript).unwrap();
    if std::env::var_os("WAYFOUND_PRINT_GOLDEN").is_some() {
        println!("{}", serde_json::to_string_pretty(&actual).unwrap());
    }
    let expected: Value = serde_json::from_str(GOLDEN).unwrap();
    assert_eq!(actual, expected);
    // 21 events, 4 mirrored twins dropped, a start and an end paired: 16.
    assert_eq!(transcript.len(), 16);
}
