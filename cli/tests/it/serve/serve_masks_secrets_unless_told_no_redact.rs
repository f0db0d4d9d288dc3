//! `event-center serve` masks the values of secret-looking keys before it
//! stores an event; `--no-redact` stores them as sent.

use crate::support;

use serde_json::json;

#[test]
fn serve_masks_secrets_unless_told_no_redact() {
    let batch = json!({"events": [{
        "event_id": "e-1",
        "event_type": "tool.called",
        "payload": {"api_key": "sk-1", "city": "Oslo"},
        "meta": {"password": "pw-2"},
    }]});
    for (flags, kept) in [(&[][..], false), (&["--no-redact"][..], true)] {
        let dir = tempfile::tempdir().unwrap();
        let (_serve, url) = support::serve(dir.path(), flags);
        let (status, body) = support::post(&format!("{url}/observation/ingest"), None, &batch);
        assert_eq!(status, 200, "{body}");
        let raw = support::data(&format!("{url}/observation/events/e-1/raw"));
        let expected = |secret: &str| {
            if kept {
                json!(secret)
            } else {
                json!("[REDACTED]")
            }
        };
        assert_eq!(
            raw["payload"]["api_key"],
            expected("sk-1"),
            "{flags:?}: {raw}"
        );
        assert_eq!(
            raw["meta"]["password"],
            expected("pw-2"),
            "{flags:?}: {raw}"
        );
        assert_eq!(raw["payload"]["city"], "Oslo");
    }
}
