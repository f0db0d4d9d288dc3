//! An event no mapping rule matches becomes a `custom_event` whose
//! attributes hold `event_name` (the original type) and `details` (its
//! payload), with its message as the description.

use event_center::{Event, Transcript, TranscriptKind, TranscriptMapping};
use serde_json::json;

#[test]
fn unmapped_events_become_custom_events_with_their_name_and_payload() {
    let event = Event::new("billing.invoice_created")
        .with_timestamp(1_700_000_000_123)
        .with_message("invoice created")
        .with_payload(json!({"invoice_id": "inv-1", "amount": 12.5}));
    let transcript = Transcript::from_events([event], &TranscriptMapping::agently());

    assert_eq!(transcript.len(), 1);
    let entry = &transcript.entries()[0];
    assert_eq!(entry.event_type, TranscriptKind::CustomEvent);
    assert_eq!(
        serde_json::to_value(entry).unwrap(),
        json!({
            "timestamp": "2023-11-14T22:13:20.123Z",
            "event_type": "custom_event",
            "description": "invoice created",
            "attributes": {
                "event_name": "billing.invoice_created",
                "details": {"invoice_id": "inv-1", "amount": 12.5}
            }
        })
    );
}
