//! A run's status as Agently DevTools reports it: from its latest event
//! type with a status suffix (`_started`/`.started`, `_resumed`, `_waiting`,
//! `interrupt_raised`, `_completed`, `_failed`; others keep the status),
//! stamping `completed_at`/`failed_at`; and, at query time, `failed` with
//! `stale_timeout` after 900 s without an event, or with
//! `orphaned_after_ancestor_terminal` 30 s after its nearest finished
//! ancestor finished. (Rules read off agently-devtools 0.2.0.)

use crate::support::observation_server::{event, now_ms, run, TestServer};
use serde_json::{json, Value};

fn root(id: &str) -> Value {
    run(id, "agent_execution", None, id)
}

#[test]
fn run_status_follows_agentlys_rules() {
    let server = TestServer::start();
    let t = now_ms();
    let cases = [
        ("s1", vec!["agent.started"], "running"),
        ("s2", vec!["agent.started", "model.requested"], "running"),
        ("s3", vec!["model.requested"], "unknown"),
        ("s4", vec!["agent.started", "agent.completed"], "completed"),
        (
            "s5",
            vec!["tool.loop_started", "tool.loop_failed"],
            "failed",
        ),
        ("s6", vec!["triggerflow.interrupt_raised"], "waiting"),
        (
            "s7",
            vec!["flow.interrupt_raised", "flow.execution_resumed"],
            "running",
        ),
        ("s8", vec!["a.completed", "a.started"], "running"),
        ("s9", vec!["job_waiting"], "waiting"),
        (
            "s10",
            vec!["completed", "a.complete", "A.FAILED"],
            "unknown",
        ),
    ];
    let mut events = Vec::new();
    for (run_id, types, _) in &cases {
        for (i, event_type) in types.iter().enumerate() {
            let id = format!("{run_id}-{i}");
            events.push(event(&id, event_type, root(run_id), t + i as i64));
        }
    }
    server.ingest(Value::Array(events));
    for (run_id, _, status) in &cases {
        let record = server.data(&format!("/observation/runs/{run_id}"));
        assert_eq!(record["status"], *status, "{run_id}: {record}");
    }
    let completed = server.data("/observation/runs/s4");
    assert_eq!(completed["completed_at"], t + 1);
    assert_eq!(completed["failed_at"], Value::Null);
    // A run completed then restarted keeps its completed_at.
    assert_eq!(server.data("/observation/runs/s8")["completed_at"], t);

    // Stale: running, nothing for 15 minutes.
    let old = t - 901_000;
    server.ingest(json!([event(
        "stale-0",
        "agent.started",
        root("stale"),
        old
    )]));
    let stale = server.data("/observation/runs/stale");
    assert_eq!(stale["status"], "failed", "{stale}");
    assert_eq!(stale["meta"]["devtools_stale_reason"], "stale_timeout");
    assert!(stale["failed_at"].as_i64().unwrap() >= t);

    // Orphaned: the parent completed 60 s ago, the child went quiet before.
    server.ingest(json!([
        event("o-0", "agent.started", root("parent"), t - 70_000),
        event(
            "o-1",
            "tool.started",
            run("child", "action", Some("parent"), "parent"),
            t - 65_000
        ),
        event("o-2", "agent.completed", root("parent"), t - 60_000),
        // A sibling still active after the parent's end is left running.
        event(
            "o-3",
            "tool.started",
            run("late", "action", Some("parent"), "parent"),
            t - 1_000
        ),
    ]));
    let child = server.data("/observation/runs/child");
    assert_eq!(child["status"], "failed", "{child}");
    assert_eq!(
        child["meta"]["devtools_stale_reason"],
        "orphaned_after_ancestor_terminal"
    );
    assert_eq!(child["meta"]["devtools_stale_anchor_at"], t - 60_000);
    assert_eq!(server.data("/observation/runs/late")["status"], "running");

    // Queries filter on the status they report.
    let failed = server.data("/observation/runs?status=failed");
    let failed: Vec<&str> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"stale") && failed.contains(&"child") && failed.contains(&"s5"));
    assert!(!failed.contains(&"late"));
}
