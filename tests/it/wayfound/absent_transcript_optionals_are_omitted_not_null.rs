//! An entry without label, description or payload has no `label`,
//! `description` or `details` key at all in its JSON (never `null`).

use event_center::{Event, Transcript, TranscriptMapping};
use serde_json::json;

#[test]
fn absent_transcript_optionals_are_omitted_not_null() {
    let events = [
        Event::new("custom.ping").with_timestamp(0),
        Event::new("model.completed").with_timestamp(1),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    let json = serde_json::to_value(&transcript).unwrap();
    assert_eq!(
        json,
        json!([
            {
                "timestamp": "1970-01-01T00:00:00.000Z",
                "event_type": "custom_event",
                "attributes": {"event_name": "custom.ping"}
            },
            {
                "timestamp": "1970-01-01T00:00:00.001Z",
                "event_type": "assistant_message",
                "attributes": {}
            }
        ])
    );
    let text = serde_json::to_string(&transcript).unwrap();
    assert!(!text.contains("null"), "{text}");
}
