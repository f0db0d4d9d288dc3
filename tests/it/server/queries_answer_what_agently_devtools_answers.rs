//! The same batch posted to this server and to the real Agently DevTools
//! 0.2.0 server (from PyPI, see `scripts/devtools_server.sh`) gets the
//! same answers: the run list, a run, its children and tree, its events
//! (compact view with a cut payload, and raw), the recent events with
//! filters, one raw event, and the 404s; then flow definitions registered
//! (and refused), declared by ingested events, and resolved. Compared as
//! JSON values, so key order aside, every field and value must match, but
//! for a definition's `registered_at` (each server's clock: checked to be
//! the time of the request) and the messages of 422s (their type and
//! location must match).

use crate::support::observation_server::{agent, answer, now_ms, run, TestServer};
use event_center_test_support::devtools_server::DevtoolsServer;
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

fn post(base: &str, path: &str, body: &str) -> (u16, Value) {
    answer(
        agent()
            .post(&format!("{base}{path}"))
            .set("Content-Type", "application/json")
            .send_string(body),
    )
}

/// An answer with what may differ between the servers taken out: a
/// definition's `registered_at`, once checked to be no earlier than
/// `since`, and the messages of a 422.
fn comparable((status, mut body): (u16, Value), since: i64) -> (u16, Value) {
    if let Some(at) = body["data"].get_mut("registered_at") {
        let time = at.as_i64().unwrap_or_else(|| panic!("registered_at: {at}"));
        assert!((since..=now_ms()).contains(&time), "registered_at {time}");
        *at = json!("checked");
    }
    if status == 422 {
        for error in body["detail"].as_array_mut().expect("a 422's error list") {
            *error = json!({"type": error["type"], "loc": error["loc"]});
        }
    }
    (status, body)
}

/// Registration bodies: accepted (trimmed names, blank app, empty and
/// kept Mermaid, extra fields) and refused.
const FLOW_BODIES: [&str; 10] = [
    r#"{"app_id":"shape-app","flow_name":"plan","definition":{"nodes":["a","b"],"n":1.5},"mermaid":{"main":"graph TD; a-->b","blank":""}}"#,
    r#"{"app_id":"shape-app","group_id":" g1 ","flow_name":" plan ","definition":{"nodes":["a"]},"mermaid":{}}"#,
    r#"{"app_id":"  ","flow_name":"solo","definition":{},"mermaid":null,"extra":1}"#,
    r#"{"definition":{}}"#,
    r#"{"flow_name":"x"}"#,
    r#"{"flow_name":"x","definition":[1]}"#,
    r#"{"flow_name":5,"definition":null,"app_id":3}"#,
    r#"{"flow_name":"x","definition":{},"mermaid":{"a":1,"b":"ok"}}"#,
    r#"[1]"#,
    "",
];

/// Definitions declared by events: with blank and non-string Mermaid
/// entries, by the legacy spelling named by its run's meta under body
/// defaults, by a spelling that is not an alias, and with a blank meta app
/// taken from the run's meta.
fn declarations() -> Value {
    let mut named_by_run = run("flow-run", "triggerflow_execution", None, "flow-run");
    named_by_run["meta"] = json!({"flow_name": "legacy"});
    let mut app_by_run = run("flow-run-2", "triggerflow_execution", None, "flow-run-2");
    app_by_run["meta"] = json!({"app_id": "run-app", "group_id": "run-group"});
    json!({
        "app_id": "flow-app",
        "group_id": "fg",
        "events": [
            {"event_id": "f1", "event_type": "triggerflow.definition_declared",
             "payload": {"flow_name": "declared", "definition": {"k": [1, 2]},
                         "mermaid": {"m": "graph LR; x-->y", "blank": "  ", "n": 3}}},
            {"event_id": "f2", "event_type": "workflow.definition_declared", "run": named_by_run,
             "payload": {"definition": {"v": 2}}},
            {"event_id": "f3", "event_type": "trigger_flow.definition_declared",
             "payload": {"flow_name": "native", "definition": {"v": 3}}},
            {"event_id": "f4", "event_type": "triggerflow.definition_declared", "run": app_by_run,
             "meta": {"app_id": "", "group_id": null},
             "payload": {"flow_name": "by-run", "definition": {"v": 4}}},
        ]
    })
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
        // Not parameters of this route: Agently ignores them, whatever their value.
        "/observation/events/recent?app_id=shape-app&run_id=shape-child&include_descendants=maybe",
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
    let since = now_ms();
    for body in FLOW_BODIES {
        let expected = comparable(
            post(&agently.url(), "/observation/flows/register", body),
            since,
        );
        let actual = comparable(
            post(&ours.url(), "/observation/flows/register", body),
            since,
        );
        assert_eq!(actual, expected, "POST /observation/flows/register {body}");
    }
    let declared = declarations().to_string();
    for base in [agently.url(), ours.url()] {
        let (status, reply) = post(&base, "/observation/ingest", &declared);
        assert_eq!(
            (status, &reply["data"]),
            (200, &json!({"ingested": 4})),
            "{base}"
        );
    }
    let flow_paths = [
        "/observation/flows/resolve?flow_name=plan&app_id=shape-app",
        "/observation/flows/resolve?flow_name=plan&app_id=shape-app&group_id=g1",
        "/observation/flows/resolve?flow_name=%20plan&app_id=shape-app&group_id=other",
        "/observation/flows/resolve?flow_name=plan",
        "/observation/flows/resolve?flow_name=solo&app_id=&group_id=%20",
        "/observation/flows/resolve?flow_name=declared&app_id=flow-app&group_id=fg",
        "/observation/flows/resolve?flow_name=legacy&app_id=flow-app&group_id=fg",
        "/observation/flows/resolve?flow_name=native&app_id=flow-app&group_id=fg",
        "/observation/flows/resolve?flow_name=by-run&app_id=run-app&group_id=run-group",
        "/observation/flows/resolve?flow_name=%20missing%20",
        "/observation/flows/resolve?app_id=shape-app",
    ];
    for path in flow_paths {
        let expected = comparable(request(&agently.url(), path), since);
        let actual = comparable(request(&ours.url(), path), since);
        assert_eq!(actual, expected, "GET {path}");
    }
    // The comparisons saw definitions, fallbacks and refusals.
    let statuses: Vec<u16> = flow_paths
        .iter()
        .map(|path| request(&ours.url(), path).0)
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 404, 200, 200, 200, 404, 200, 404, 422]
    );

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
