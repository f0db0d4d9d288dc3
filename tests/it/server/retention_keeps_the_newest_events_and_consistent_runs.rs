//! With a retention cap, the store keeps the newest events: beyond the cap
//! the oldest are deleted, a run's `event_count` follows what is left, and a
//! run left without events is gone from the run list.

use crate::support::observation_server::{event, ids, now_ms, run, run_ids, TestServer};
use event_center::Retention;
use serde_json::Value;

#[test]
fn retention_keeps_the_newest_events_and_consistent_runs() {
    let server = TestServer::with(|builder| builder.with_retention(Retention::events(5)));
    let t = now_ms();
    let old = run("old", "agent_execution", None, "old");
    let new = run("new", "agent_execution", None, "new");
    let batch: Vec<Value> = (0..4)
        .map(|i| event(&format!("old-{i}"), "step.started", old.clone(), t + i))
        .collect();
    assert_eq!(server.ingest(Value::Array(batch)), 4);
    let batch: Vec<Value> = (0..3)
        .map(|i| event(&format!("new-{i}"), "step.started", new.clone(), t + 10 + i))
        .collect();
    assert_eq!(server.ingest(Value::Array(batch)), 3);

    let mut kept = ids(&server.data("/observation/events/recent?limit=100"));
    kept.sort();
    assert_eq!(kept, ["new-0", "new-1", "new-2", "old-2", "old-3"]);
    assert_eq!(server.data("/observation/runs/old")["event_count"], 2);
    assert_eq!(server.data("/observation/runs/new")["event_count"], 3);

    // A batch larger than the cap leaves only its own newest events.
    let batch: Vec<Value> = (0..6)
        .map(|i| {
            event(
                &format!("last-{i}"),
                "step.started",
                new.clone(),
                t + 20 + i,
            )
        })
        .collect();
    assert_eq!(server.ingest(Value::Array(batch)), 6);
    assert_eq!(
        ids(&server.data("/observation/events/recent")),
        ["last-5", "last-4", "last-3", "last-2", "last-1"]
    );
    assert_eq!(run_ids(&server.data("/observation/runs")), ["new"]);
    let (status, _) = server.get("/observation/runs/old");
    assert_eq!(status, 404);
    assert_eq!(server.data("/observation/runs/new")["event_count"], 5);
}
