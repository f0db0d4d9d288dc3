//! A transcript over one request's budget is sent as a create, then appends
//! (`PUT /api/v2/sessions/{id}`) to the session id the create answered
//! with; only the last request waits for the analysis, whose grade is
//! returned.
#![cfg(feature = "wayfound-http")]

use std::time::Duration;

use event_center::{
    SizeBudget, Transcript, TranscriptEntry, TranscriptKind, WayfoundClient, WayfoundSession,
};

#[test]
fn sending_a_long_transcript_creates_then_appends_to_the_same_session() {
    let server = crate::support::wayfound_loopback::serve(vec![
        (200, r#"{"id": "s-77"}"#),
        (200, r#"{"id": "s-77"}"#),
        (200, r#"{"id": "s-77", "grade": {"grade": "A"}}"#),
    ]);
    let client = WayfoundClient::new("key")
        .with_base_url(&server.url)
        .with_timeout(Duration::from_secs(10));
    let entries: Vec<TranscriptEntry> = (0..6)
        .map(|i| {
            TranscriptEntry::new("2025-05-07T10:00:00.000Z", TranscriptKind::AssistantMessage)
                .with_attribute("content", format!("{i} {}", "a".repeat(700)))
        })
        .collect();
    let transcript = Transcript::from(entries);
    let budget = SizeBudget::default().with_batch_bytes(2_000); // two entries a request
    let session = WayfoundSession::new("agent-uuid").with_async(false);

    let answer = client
        .send_transcript(&session, &transcript, &budget)
        .unwrap();
    assert_eq!(answer.id(), "s-77");
    assert_eq!(answer.grade().map(|g| g.grade.as_str()), Some("A"));

    let requests = server.finish();
    let lines: Vec<(String, String, bool, usize)> = requests
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.clone(),
                r.body["async"].as_bool().unwrap(),
                r.body["messages"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("POST".to_string(), "/api/v2/sessions".to_string(), true, 2),
            (
                "PUT".to_string(),
                "/api/v2/sessions/s-77".to_string(),
                true,
                2
            ),
            (
                "PUT".to_string(),
                "/api/v2/sessions/s-77".to_string(),
                false,
                2
            ),
        ]
    );
    assert_eq!(requests[0].body["agentId"], "agent-uuid");
    assert!(requests[1].body.get("agentId").is_none());
    assert_eq!(
        requests[2].body["messages"][1]["attributes"]["content"]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("5")
    );
}
