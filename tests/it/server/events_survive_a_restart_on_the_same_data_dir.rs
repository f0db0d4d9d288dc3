//! The store is a SQLite file in the data directory: a server started again
//! on the same directory serves the same runs and events, keeps
//! deduplicating the ids it stored before, and goes on updating their runs.

use crate::support::observation_server::{agent, answer, event, ids, now_ms, run, start_on};
use serde_json::json;

#[test]
fn events_survive_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let t = now_ms();
    let r = run("kept", "agent_execution", None, "kept");
    let post = |url: &str, events: serde_json::Value| {
        let (status, body) = answer(
            agent()
                .post(&format!("{url}/observation/ingest"))
                .set("Content-Type", "application/json")
                .send_string(&json!({ "events": events }).to_string()),
        );
        assert_eq!(status, 200, "{body}");
        body["data"]["ingested"].as_u64().unwrap()
    };
    let get = |url: &str, path: &str| {
        answer(agent().get(&format!("{url}{path}")).call()).1["data"].clone()
    };

    let first = start_on(dir.path(), |b| b);
    let url = first.url();
    assert_eq!(
        post(
            &url,
            json!([
                event("a", "agent.started", r.clone(), t),
                event("b", "model.requested", r.clone(), t + 1)
            ])
        ),
        2
    );
    let before = get(&url, "/observation/runs/kept");
    first.shutdown();

    let second = start_on(dir.path(), |b| b);
    let url = second.url();
    assert_eq!(get(&url, "/observation/runs/kept"), before);
    assert_eq!(ids(&get(&url, "/observation/runs/kept/events")), ["a", "b"]);
    assert_eq!(
        post(
            &url,
            json!([
                event("b", "model.requested", r.clone(), t + 1),
                event("c", "agent.completed", r, t + 2)
            ])
        ),
        1,
        "b was stored before the restart"
    );
    let after = get(&url, "/observation/runs/kept");
    assert_eq!(after["event_count"], 3);
    assert_eq!(after["status"], "completed");
    assert_eq!(after["started_at"], t);
}
