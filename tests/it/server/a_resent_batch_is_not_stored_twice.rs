//! Events are keyed by `event_id`: a batch sent again (a client retrying
//! after a timeout) and a duplicate inside one batch are stored once, and
//! the ingest count says how many were new, as Agently DevTools counts.

use crate::support::observation_server::{event, ids, now_ms, run, TestServer};
use serde_json::json;

#[test]
fn a_resent_batch_is_not_stored_twice() {
    let server = TestServer::start();
    let t = now_ms();
    let r = run("run-1", "agent_execution", None, "run-1");
    let batch = json!([
        event("e1", "agent.started", r.clone(), t),
        event("e2", "model.requested", r.clone(), t + 1),
        event("e3", "agent.completed", r.clone(), t + 2),
    ]);

    assert_eq!(server.ingest(batch.clone()), 3);
    assert_eq!(server.ingest(batch), 0);
    // A duplicate inside a batch, next to one new event.
    let again = json!([
        event("e4", "tool.called", r.clone(), t + 3),
        event("e4", "tool.called", r.clone(), t + 3),
        event("e1", "agent.started", r, t),
    ]);
    assert_eq!(server.ingest(again), 1);

    let events = server.data("/observation/runs/run-1/events");
    assert_eq!(ids(&events), ["e1", "e2", "e3", "e4"]);
    let record = server.data("/observation/runs/run-1");
    assert_eq!(record["event_count"], 4);
    assert_eq!(record["status"], "completed");
    assert_eq!(record["latest_event_type"], "tool.called");
}
