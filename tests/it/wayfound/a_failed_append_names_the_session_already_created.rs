//! When an append fails after the create succeeded, the error names the
//! session that was created, so the caller can append the rest to it
//! instead of recording the conversation twice.
#![cfg(feature = "wayfound-http")]

use std::time::Duration;

use event_center::{
    SizeBudget, Transcript, TranscriptEntry, TranscriptKind, WayfoundClient, WayfoundErrorKind,
    WayfoundSession,
};

#[test]
fn a_failed_append_names_the_session_already_created() {
    let server = crate::support::wayfound_loopback::serve(vec![
        (200, r#"{"id": "s-9"}"#),
        (500, r#"{"error": "overloaded"}"#),
    ]);
    let client = WayfoundClient::new("key")
        .with_base_url(&server.url)
        .with_timeout(Duration::from_secs(10));
    let entries: Vec<TranscriptEntry> = (0..2)
        .map(|i| {
            TranscriptEntry::new("2025-05-07T10:00:00.000Z", TranscriptKind::UserMessage)
                .with_attribute("content", format!("{i} {}", "u".repeat(700)))
        })
        .collect();
    let budget = SizeBudget::default().with_batch_bytes(1_000); // one entry a request

    let err = client
        .send_transcript(
            &WayfoundSession::new("agent-uuid"),
            &Transcript::from(entries),
            &budget,
        )
        .unwrap_err();
    assert_eq!(err.kind(), &WayfoundErrorKind::Server);
    assert_eq!(err.session_id(), Some("s-9"));
    assert!(err.to_string().contains("session s-9 was created"), "{err}");
    assert!(err.body().contains("overloaded"));
    assert_eq!(server.finish().len(), 2);
}
