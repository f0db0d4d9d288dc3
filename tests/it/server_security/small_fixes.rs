//! Smaller holes: a run stamped at the ends of the `i64` range (an
//! overflowing subtraction kept it `running` forever), a lone surrogate in
//! a string field (reported as "must be a string, found a string"), and
//! `/events/recent` with `run_id` and `include_descendants` (answered as
//! Agently DevTools answers: they are not parameters of that route).

use serde_json::{json, Value};

use super::server::{event, ids, now_ms, run, TestServer};

#[test]
fn a_run_stamped_at_the_ends_of_the_i64_range_gets_a_status_not_an_overflow() {
    let server = TestServer::start();
    let mut first = event(
        "min-1",
        "agent.started",
        run("run-min", "agent_execution", None, "run-min"),
        0,
    );
    first["timestamp"] = json!(i64::MIN);
    let mut last = event(
        "max-1",
        "agent.started",
        run("run-max", "agent_execution", None, "run-max"),
        0,
    );
    last["timestamp"] = json!(i64::MAX);
    assert_eq!(server.ingest(json!([first, last])), 2);

    // Nothing new since i64::MIN milliseconds: stale, so failed (Agently's rule).
    let min = server.data("/observation/runs/run-min");
    assert_eq!(min["status"], "failed", "{min}");
    assert_eq!(min["meta"]["devtools_stale_reason"], "stale_timeout");
    assert_eq!(min["updated_at"], json!(i64::MIN));
    // Its last event is in the future: still running, as Agently reports it.
    let max = server.data("/observation/runs/run-max");
    assert_eq!(max["status"], "running", "{max}");
    for path in [
        "/observation/runs",
        "/observation/runs/run-min/tree",
        "/observation/runs/run-max/children",
        "/observation/events/recent?since=-9223372036854775808&until=9223372036854775807",
    ] {
        server.data(path);
    }
    // A child of the i64::MIN run is checked against it without overflow.
    let child = run("run-child", "model_request", Some("run-min"), "run-min");
    server.ingest(json!([event("child-1", "model.started", child, now_ms())]));
    assert_eq!(
        server.data("/observation/runs/run-child")["status"],
        "running"
    );
}

#[test]
fn a_lone_surrogate_is_reported_as_not_valid_unicode() {
    let server = TestServer::start();
    let body = r#"{"events":[
        {"event_id":"ok-1","event_type":"a.b"},
        {"event_id":"bad-type","event_type":"\ud800"},
        {"event_id":"bad-run","event_type":"a.b","run":{"run_id":"\udc00","run_kind":"k"}},
        {"event_id":"bad-source","event_type":"a.b","source":"x\ud83d"},
        {"event_id":"ok-2","event_type":"a.b","payload":{"text":"\ud83d\ude00"}}
    ]}"#;
    let (status, answer) = server.post_text("/observation/ingest", body);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["data"]["ingested"], 2);
    let detail = answer["detail"].as_array().expect("a list of errors");
    let locs: Vec<&Value> = detail.iter().map(|e| &e["loc"]).collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "events", 1, "event_type"]),
            &json!(["body", "events", 2, "run", "run_id"]),
            &json!(["body", "events", 3, "source"]),
        ]
    );
    for error in detail {
        let msg = error["msg"].as_str().unwrap();
        assert!(
            msg.contains("not valid Unicode") && msg.contains("lone surrogate"),
            "{msg}"
        );
        assert!(!msg.contains("found a string"), "{msg}");
    }
    let (status, answer) =
        server.post_text("/observation/ingest", r#"{"app_id":"\ud800","events":[]}"#);
    assert_eq!(status, 422);
    let msg = answer["detail"][0]["msg"].as_str().unwrap();
    assert!(msg.contains("not valid Unicode"), "{msg}");
}

#[test]
fn recent_events_answer_as_agently_devtools_does_whatever_run_id_says() {
    let server = TestServer::start();
    let t = now_ms();
    let root = run("recent-root", "agent_execution", None, "recent-root");
    let child = run(
        "recent-child",
        "model_request",
        Some("recent-root"),
        "recent-root",
    );
    let other = run("recent-other", "agent_execution", None, "recent-other");
    server.ingest(json!([
        event("r-1", "agent.started", root, t),
        event("r-2", "model.started", child, t + 1),
        event("r-3", "agent.started", other, t + 2),
    ]));
    let all = ids(&server.data("/observation/events/recent"));
    assert_eq!(all, ["r-3", "r-2", "r-1"]);
    // Agently DevTools' route declares neither parameter: FastAPI ignores
    // them, whatever their value.
    for query in [
        "run_id=recent-root",
        "run_id=recent-root&include_descendants=true",
        "run_id=recent-child&include_descendants=maybe",
        "include_descendants=not-a-boolean",
    ] {
        let path = format!("/observation/events/recent?{query}");
        assert_eq!(ids(&server.data(&path)), all, "{path}");
    }
    // A run's events are at /runs/{id}/events.
    assert_eq!(
        ids(&server.data("/observation/runs/recent-root/events?include_descendants=true")),
        ["r-1", "r-2"]
    );
}
