//! `event-center serve --api-key KEY` answers only requests carrying the
//! key: none or a wrong one gets 401.

use crate::support;

use serde_json::json;

#[test]
fn serve_refuses_a_missing_or_wrong_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, url) = support::serve(dir.path(), &["--api-key", "s3cret"]);
    let ingest = format!("{url}/observation/ingest");
    let runs = format!("{url}/observation/runs");
    let batch = json!({"events": [{"event_type": "agent.started"}]});

    for key in [None, Some("wrong")] {
        let (status, body) = support::post(&ingest, key, &batch);
        assert_eq!(status, 401, "ingest with {key:?}: {body}");
        let (status, body) = support::get(&runs, key);
        assert_eq!(status, 401, "runs with {key:?}: {body}");
    }
    let (status, body) = support::post(&ingest, Some("s3cret"), &batch);
    assert_eq!(
        (status, &body["data"]["ingested"]),
        (200, &json!(1)),
        "{body}"
    );
    let (status, body) = support::get(&format!("{url}/observation/events/recent"), Some("s3cret"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["event_type"], "agent.started");
}
