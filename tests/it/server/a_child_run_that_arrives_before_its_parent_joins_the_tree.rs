//! Batches arrive in any order: a child run's events may be stored before
//! its parent has any. The child is a run of its own at once (its parent
//! unknown), and once the parent's events arrive the parent's children and
//! tree include it, each run keeping the fields of its own first event.

use crate::support::observation_server::{event, now_ms, run, run_ids, TestServer};
use serde_json::json;

#[test]
fn a_child_run_that_arrives_before_its_parent_joins_the_tree() {
    let server = TestServer::start();
    let t = now_ms();
    let grandchild = run("grandchild", "action", Some("child"), "root");
    let child = run("child", "model_request", Some("root"), "root");
    let root = run("root", "agent_execution", None, "root");

    server.ingest(json!([event(
        "g1",
        "tool.started",
        grandchild.clone(),
        t + 3
    )]));
    server.ingest(json!([event(
        "c1",
        "model.requested",
        child.clone(),
        t + 2
    )]));
    let (status, _) = server.get("/observation/runs/root");
    assert_eq!(status, 404, "no event of the root yet");
    assert_eq!(
        run_ids(&server.data("/observation/runs/child/children")),
        ["grandchild"]
    );

    server.ingest(json!([
        event("r1", "agent.started", root.clone(), t),
        event("c2", "model.completed", child, t + 4),
        event("g2", "tool.completed", grandchild, t + 5),
        event("r2", "agent.completed", root, t + 6),
    ]));

    assert_eq!(
        run_ids(&server.data("/observation/runs/root/children")),
        ["child"]
    );
    let tree = server.data("/observation/runs/root/tree");
    assert_eq!(tree["run"]["run_id"], "root");
    assert_eq!(tree["run"]["status"], "completed");
    assert_eq!(tree["children"][0]["run"]["run_id"], "child");
    assert_eq!(tree["children"][0]["run"]["status"], "completed");
    assert_eq!(tree["children"][0]["run"]["started_at"], t + 2);
    assert_eq!(
        tree["children"][0]["children"][0]["run"]["run_id"],
        "grandchild"
    );
    assert_eq!(tree["children"][0]["children"][0]["run"]["event_count"], 2);
    assert_eq!(tree["children"][0]["children"][0]["children"], json!([]));

    let events = server.data("/observation/runs/root/events?include_descendants=true");
    let order: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["r1", "c1", "g1", "c2", "g2", "r2"], "by timestamp");
    let own = server.data("/observation/runs/root/events");
    assert_eq!(own.as_array().unwrap().len(), 2);
}
