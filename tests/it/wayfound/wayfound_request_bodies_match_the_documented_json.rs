//! The requests that send a transcript are Wayfound's documented bodies:
//! `POST /api/v2/sessions` with `agentId`, `messages`, `async` and the
//! optional visitor, account, application and metadata fields, then
//! `PUT /api/v2/sessions/{id}` with the remaining `messages`; only the last
//! request waits for the analysis (`async: false`). Golden files:
//! `tests/golden/wayfound/create_session.json` and `append_session.json`.

use event_center::{
    Event, SizeBudget, Transcript, TranscriptMapping, WayfoundRequest, WayfoundSession,
};
use serde_json::{json, Value};

const CREATE: &str = include_str!("../../golden/wayfound/create_session.json");
const APPEND: &str = include_str!("../../golden/wayfound/append_session.json");

/// 2025-05-07T10:00:00Z in Unix milliseconds.
const T0: i64 = 1_746_612_000_000;

#[test]
fn wayfound_request_bodies_match_the_documented_json() {
    let events = [
        Event::new("user.message")
            .with_timestamp(T0)
            .with_payload(json!("What's the current status of Project Alpha?")),
        Event::new("tool.started")
            .with_timestamp(T0 + 3_000)
            .with_message("Fetch summary for Project Alpha")
            .with_payload(json!({"call_id": "call-1", "tool_name": "PMService", "input": {"projectId": "Alpha"}})),
        Event::new("tool.completed")
            .with_timestamp(T0 + 3_095)
            .with_payload(json!({"call_id": "call-1", "output": {"status": "On Track", "completion": 80}})),
        Event::new("model.completed").with_timestamp(T0 + 4_000).with_payload(json!({
            "text": "Project Alpha is On Track with 80% completion to date.",
            "model": "gpt-4",
            "tokens": 18
        })),
        Event::new("feedback.given")
            .with_timestamp(T0 + 305_000)
            .with_message("User gave a thumbs-up")
            .with_payload(json!({"feedback_type": "thumbs_up_down", "rating": "thumbs_up"})),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    let session = WayfoundSession::new("8c0e89d0-2c7a-4c3e-9c6b-9f8a5d1e7c2a")
        .with_application_id("app-7")
        .with_visitor("visitor@example.com", "Visitor")
        .with_account("acct-1", "Acme")
        .with_metadata("source", "event-center")
        .with_async(false);
    // A budget that holds the first three entries, not the fourth.
    let three = serde_json::to_vec(&transcript.entries()[..3])
        .unwrap()
        .len();
    let requests = session.requests(&transcript, &SizeBudget::default().with_batch_bytes(three));

    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[0].method(), requests[0].path(None)),
        ("POST", "/api/v2/sessions".into())
    );
    assert_eq!(
        (requests[1].method(), requests[1].path(Some("s-1"))),
        ("PUT", "/api/v2/sessions/s-1".into())
    );
    assert!(matches!(requests[0], WayfoundRequest::Create(_)));
    let create: Value = serde_json::from_str(CREATE).unwrap();
    let append: Value = serde_json::from_str(APPEND).unwrap();
    assert_eq!(
        requests[0].body(),
        create,
        "{}",
        serde_json::to_string_pretty(&requests[0].body()).unwrap()
    );
    assert_eq!(
        requests[1].body(),
        append,
        "{}",
        serde_json::to_string_pretty(&requests[1].body()).unwrap()
    );
}
