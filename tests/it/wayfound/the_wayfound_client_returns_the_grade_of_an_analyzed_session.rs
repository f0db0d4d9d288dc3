//! Over a real HTTP exchange with a loopback server, the client creates a
//! session with `POST /api/v2/sessions` (Bearer key, JSON body) and reads
//! Wayfound's documented `200` answer to an `async: false` request: the
//! session id and its grade, with the whole analysis kept.
#![cfg(feature = "wayfound-http")]

use std::time::Duration;

use event_center::{
    Event, SizeBudget, Transcript, TranscriptMapping, WayfoundClient, WayfoundResponse,
    WayfoundSession,
};
use serde_json::json;

const ANALYZED: &str = r#"{
  "id": "session-uuid",
  "agentId": "agent-uuid",
  "grade": {"grade": "B", "explanation": "The agent promised a refund timeline it cannot guarantee."},
  "compliance": [{"guideline": "Never commit to a refund timeline.", "result": {"compliant": false, "reason": "3-5 days"}}],
  "sentiment": {"value": "neutral", "reason": "..."},
  "knowledgeGaps": [],
  "tags": ["refund"]
}"#;

#[test]
fn the_wayfound_client_returns_the_grade_of_an_analyzed_session() {
    let server = crate::support::wayfound_loopback::serve(vec![(200, ANALYZED)]);
    let client = WayfoundClient::new("550e8400-e29b-41d4-a716-446655440000")
        .with_base_url(&server.url)
        .with_timeout(Duration::from_secs(10));
    let events = [
        Event::new("user.message")
            .with_timestamp(0)
            .with_payload(json!("Cancel and refund, please")),
        Event::new("model.completed")
            .with_timestamp(4_000)
            .with_payload(json!({"text": "Refund in 3-5 days."})),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    let session = WayfoundSession::new("agent-uuid").with_async(false);

    let answer = client
        .send_transcript(&session, &transcript, &SizeBudget::default())
        .unwrap();

    let WayfoundResponse::Analyzed { id, grade, body } = &answer else {
        panic!("expected an analyzed session, got {answer:?}");
    };
    assert_eq!(id, "session-uuid");
    assert_eq!(grade.grade, "B");
    assert_eq!(
        grade.explanation.as_deref(),
        Some("The agent promised a refund timeline it cannot guarantee.")
    );
    assert_eq!(body["compliance"][0]["result"]["compliant"], false);
    assert!(!answer.is_pending());

    let requests = server.finish();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v2/sessions")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer 550e8400-e29b-41d4-a716-446655440000")
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(request.body["agentId"], "agent-uuid");
    assert_eq!(request.body["async"], false);
    assert_eq!(request.body["messages"][0]["event_type"], "user_message");
    assert_eq!(
        request.body["messages"][1]["attributes"]["content"],
        "Refund in 3-5 days."
    );
}
