//! Wayfound's error answers become typed errors that carry the request, the
//! HTTP status, Wayfound's message and what to do: `401` (a bad key), `400`
//! (a refused body), `500`, and a `200` that is not JSON.
#![cfg(feature = "wayfound-http")]

use std::time::Duration;

use event_center::{WayfoundClient, WayfoundErrorKind, WayfoundSession};

#[test]
fn the_wayfound_client_reports_errors_with_status_body_and_advice() {
    let server = crate::support::wayfound_loopback::serve(vec![
        (401, r#"{"message": "Unauthorized: Invalid API key"}"#),
        (400, r#"{"error": "Missing agentId field"}"#),
        (500, r#"{"error": "internal"}"#),
        (200, "<html>not the API</html>"),
    ]);
    let client = WayfoundClient::new("not-a-uuid")
        .with_base_url(&server.url)
        .with_timeout(Duration::from_secs(10));
    let session = WayfoundSession::new("agent-uuid");

    let unauthorized = client.create(&session.create_body(Vec::new())).unwrap_err();
    assert_eq!(unauthorized.kind(), &WayfoundErrorKind::Unauthorized);
    assert_eq!(unauthorized.status(), Some(401));
    assert!(unauthorized.body().contains("Invalid API key"));
    let text = unauthorized.to_string();
    assert!(text.contains("POST /api/v2/sessions"), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("standard Wayfound API key"), "{text}");

    let refused = client
        .append("s-1", &session.append_body(Vec::new()))
        .unwrap_err();
    assert_eq!(refused.kind(), &WayfoundErrorKind::BadRequest);
    assert_eq!(refused.status(), Some(400));
    assert!(refused.to_string().contains("PUT /api/v2/sessions/s-1"));
    assert!(refused.body().contains("Missing agentId field"));

    let failed = client.create(&session.create_body(Vec::new())).unwrap_err();
    assert_eq!(failed.kind(), &WayfoundErrorKind::Server);
    assert_eq!(failed.status(), Some(500));

    let garbled = client.create(&session.create_body(Vec::new())).unwrap_err();
    assert_eq!(garbled.kind(), &WayfoundErrorKind::InvalidResponse);
    assert_eq!(garbled.status(), Some(200));
    assert!(garbled.body().contains("<html>"));

    let requests = server.finish();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PUT", "POST", "POST"]);
}
