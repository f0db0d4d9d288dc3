#![cfg(feature = "server")]
//! The same batch posted to this server and to the real Agently DevTools
//! 0.2.0 server (from PyPI, see `scripts/devtools_server.sh`) gets the
//! same answers: the run list, a run, its children and tree, its events
//! (compact view with a cut payload, and raw), the recent events with
//! filters, one raw event, and the 404s. Compared as JSON values, so key
//! order aside, every field and value must match.

#[path = "devtools_server/mod.rs"]
mod devtools_server;
mod observation_server;

use devtools_server::DevtoolsServer;
use observation_server::{agent, answer, now_ms, run, TestServer};
use serde_json::{json, Value};

fn batch(t: i64) -> Value {
    let root = run("shape-root", "agent_execution", None, "shape-root");
    let child = run(
        "shape-child",
        "model_request",
        Some("shape-root"),
        "shape-root",
    );
    let mut tool = run("shape-tool", "action", Some("shape-child"), "shape-root");
    tool["meta"] = json!({"flow_name": "lookup", "app_id": "from-run-meta"});
    let long_list: Vec<Value> = (0..45).map(Value::from).collect();
    json!({
        "app_id": "shape-app",
        "group_id": "g1",
        "environment": "test",
        "events": [
            {"event_id": "s1", "event_type": "agent.started", "source": "Shape", "level": "INFO",
             "message": "go", "payload": {"goal": "compare"}, "error": null, "run": root,
             "meta": {"component": "test"}, "timestamp": t},
            {"event_id": "s2", "event_type": "model.requested", "run": child, "timestamp": t + 1,
             "payload": {"messages": [{"role": "user", "content": "hi"}], "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}},
            {"event_id": "s3", "event_type": "tool.started", "run": tool.clone(), "timestamp": t + 2,
             "meta": {"group_id": "own-group"}},
            {"event_id": "s4", "event_type": "tool.failed", "level": "ERROR", "run": tool, "timestamp": t + 3,
             "error": {"type": "Timeout", "message": "no answer", "traceback": "x".repeat(4100)}},
            {"event_id": "s5", "event_type": "model.completed", "run": child, "timestamp": t + 4,
             "payload": {"text": "y".repeat(5000), "items": long_list}},
            {"event_id": "s6", "event_type": "workflow.execution_started", "run": root.clone(), "timestamp": t + 5},
            {"event_id": "s7", "event_type": "agent.completed", "run": root, "timestamp": t + 6,
             "message": "done"},
        ]
    })
}

fn request(base: &str, path: &str) -> (u16, Value) {
    answer(agent().get(&format!("{base}{path}")).call())
}

#[test]
fn queries_answer_what_agently_devtools_answers() {
    let agently = DevtoolsServer::start();
    let ours = TestServer::start();
    let body = batch(now_ms() - 5_000);
    for base in [agently.url(), ours.url()] {
        let (status, reply) = answer(
            agent()
                .post(&format!("{base}/observation/ingest"))
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        );
        assert_eq!(
            (status, &reply["data"]),
            (200, &json!({"ingested": 7})),
            "{base}"
        );
    }

    let paths = [
        "/observation/runs?app_id=shape-app",
        "/observation/runs?app_id_pattern=^from-&search=lookup",
        "/observation/runs?status=completed&group_id=g1",
        "/observation/runs?flow_name=lookup",
        "/observation/runs?root_run_id=shape-root&limit=2",
        "/observation/runs/shape-root",
        "/observation/runs/shape-child",
        "/observation/runs/shape-root/children",
        "/observation/runs/shape-tool/children",
        "/observation/runs/shape-root/tree",
        "/observation/runs/shape-child/tree",
        "/observation/runs/shape-root/events",
        "/observation/runs/shape-root/events?include_descendants=true",
        "/observation/runs/shape-root/events?include_descendants=true&payload_mode=raw",
        "/observation/runs/shape-root/events?include_descendants=true&limit=3&level=INFO",
        "/observation/events/recent?app_id=shape-app",
        "/observation/events/recent?group_id=g1&limit=2",
        "/observation/events/recent?event_types=triggerflow.execution_started",
        "/observation/events/recent?app_id=shape-app&search=NO%20ANSWER",
        "/observation/events/recent?app_id=shape-app&source=Shape&since=0",
        "/observation/events/s5/raw",
        "/observation/events/s4/raw",
        "/observation/runs/missing",
        "/observation/runs/missing/tree",
        "/observation/runs/missing/children",
        "/observation/events/missing/raw",
    ];
    for path in paths {
        let expected = request(&agently.url(), path);
        let actual = request(&ours.url(), path);
        assert_eq!(actual, expected, "GET {path}");
    }
    // The cut payload really was cut (the comparison above is not vacuous).
    let (_, events) = request(&ours.url(), "/observation/runs/shape-child/events");
    assert_eq!(
        events["data"][1]["devtools_view"]["payload_compacted"],
        true
    );
    assert_eq!(
        events["data"][0]["payload"]["deep"]["a"]["b"]["c"]["d"]["e"]["f"]["g"]["h"],
        "[devtools compacted nested payload; use raw_event_ref or payload_mode=raw for full value]"
    );
}
