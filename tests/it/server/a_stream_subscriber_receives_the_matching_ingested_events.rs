//! `GET /observation/stream` is a server-sent event stream: each event
//! stored after the subscription that matches its filters arrives as one
//! `data: {event}` message, in commit order, shaped as the query API
//! serves it. `run_id` takes the run and (by default) the runs under the
//! same root; `limit` ends the stream after that many events.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use crate::support::observation_server::{agent, event, now_ms, run, TestServer};
use serde_json::{json, Value};

#[test]
fn a_stream_subscriber_receives_the_matching_ingested_events() {
    let server = TestServer::start();
    let response = agent()
        .get(&format!(
            "{}/observation/stream?run_id=root&event_types=model.requested&event_types=agent.completed&limit=2",
            server.url()
        ))
        .call()
        .expect("the stream opens");
    assert_eq!(response.content_type(), "text/event-stream");
    let mut lines = BufReader::new(response.into_reader()).lines();

    let t = now_ms();
    let root = run("root", "agent_execution", None, "root");
    let child = run("child", "model_request", Some("root"), "root");
    let other = run("other", "agent_execution", None, "other");
    let sent = Instant::now();
    server.ingest(json!([
        event("skip-type", "agent.started", root.clone(), t),
        event("skip-run", "model.requested", other, t + 1),
        event("child-request", "model.requested", child, t + 2),
        event("root-done", "agent.completed", root, t + 3),
        event(
            "after-limit",
            "agent.completed",
            run("root", "agent_execution", None, "root"),
            t + 4
        ),
    ]));

    let mut received: Vec<Value> = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line of the stream");
        if let Some(data) = line.strip_prefix("data: ") {
            if received.is_empty() {
                eprintln!("first event after {:?}", sent.elapsed());
            }
            received.push(serde_json::from_str(data).expect("each message is one JSON event"));
        }
    }
    // The stream ended by itself after `limit` events.
    let received_ids: Vec<&str> = received
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(received_ids, ["child-request", "root-done"]);
    assert_eq!(received[0]["run"]["parent_run_id"], "root");
    assert_eq!(received[0]["meta"]["app_id"], "default");
    assert_eq!(
        received[1],
        server.data("/observation/events/root-done/raw")
    );
}
