//! When Wayfound's analysis does not finish within its synchronous window it
//! answers `202` with `{"id": ..., "status": "processing"}`; the client
//! returns that as a pending answer with the session id, not as an error.
#![cfg(feature = "wayfound-http")]

use std::time::Duration;

use event_center::{WayfoundClient, WayfoundResponse, WayfoundSession};

#[test]
fn the_wayfound_client_reports_a_pending_analysis() {
    let server = crate::support::wayfound_loopback::serve(vec![(
        202,
        r#"{"id": "s-202", "status": "processing"}"#,
    )]);
    let client = WayfoundClient::new("key")
        .with_base_url(&server.url)
        .with_timeout(Duration::from_secs(10));

    let body = WayfoundSession::new("agent-uuid")
        .with_async(false)
        .create_body(Vec::new());
    let answer = client.create(&body).unwrap();

    assert!(answer.is_pending());
    assert_eq!(answer.id(), "s-202");
    assert!(answer.grade().is_none());
    assert!(
        matches!(&answer, WayfoundResponse::Pending { body, .. } if body["status"] == "processing")
    );
    assert_eq!(server.finish().len(), 1);
}
