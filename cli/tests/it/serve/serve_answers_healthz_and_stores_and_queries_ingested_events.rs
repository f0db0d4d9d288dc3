//! `event-center serve` answers `/healthz`, serves the viewer at `/`, stores
//! what is posted to `/observation/ingest` and answers queries about it;
//! SIGTERM stops it cleanly.

use crate::support;

use serde_json::json;

#[test]
fn serve_answers_healthz_and_stores_and_queries_ingested_events() {
    let dir = tempfile::tempdir().unwrap();
    let (mut serve, url) = support::serve(dir.path(), &[]);

    assert_eq!(support::data(&format!("{url}/healthz"))["ok"], true);
    let (status, viewer) = support::get(&format!("{url}/"), None);
    assert_eq!(status, 200);
    assert!(viewer.as_str().is_some_and(|html| html.contains("<html")));

    let run = json!({"run_id": "cli-run-1", "run_kind": "agent_execution"});
    let batch = json!({"events": [
        {"event_type": "agent_execution.started", "source": "Agent", "run": run},
        {"event_type": "model.requesting", "source": "Agent", "run": run, "payload": {"model": "m"}},
    ]});
    let (status, body) = support::post(&format!("{url}/observation/ingest"), None, &batch);
    assert_eq!(
        (status, &body["data"]["ingested"]),
        (200, &json!(2)),
        "{body}"
    );

    let events = support::data(&format!("{url}/observation/runs/cli-run-1/events"));
    let types: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["agent_execution.started", "model.requesting"]);
    let run = support::data(&format!("{url}/observation/runs/cli-run-1"));
    assert_eq!(
        (&run["status"], &run["event_count"]),
        (&json!("running"), &json!(2)),
        "{run}"
    );

    serve.terminate();
    let status = serve.wait_exit();
    assert!(status.success(), "{status}:\n{}", serve.transcript());
    assert!(serve.out.iter().any(|l| l == "event-center: stopped"));
}
