//! Forwards a small agent run (a root run, a model request and a tool call
//! under it) to an Agently DevTools server, then prints what was sent.
//!
//! ```text
//! bash scripts/devtools_server.sh install          # once: a virtualenv with agently-devtools
//! bash scripts/devtools_server.sh serve --port 15596 &
//! cargo run --features devtools-client --example devtools_forwarder -- http://127.0.0.1:15596
//! ```
//!
//! Open the printed URL to see the run tree. With no server listening, the
//! forwarder keeps the events, retries with backoff, and its numbers after
//! the flush say how many were left: the agent itself never waits or fails.

use std::time::Duration;

use event_center::{DevtoolsBackoff, DevtoolsForwarder, EventCenter, RunContext};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:15596".to_owned());
    let center = EventCenter::new();
    let devtools = DevtoolsForwarder::builder(url.as_str())
        .with_app_id("event-center-example")
        .with_group_id("examples")
        .with_environment("dev")
        .with_batch(100, Duration::from_millis(50))
        .with_retry(DevtoolsBackoff::new(
            Duration::from_millis(50),
            Duration::from_millis(500),
        ))
        .register(&center, "devtools")?;

    let run = RunContext::new("agent_execution").with_agent_name("planner");
    let agent = center.emitter("Planner").with_run(run.clone());
    agent
        .emit("agent_execution.started")
        .message("plan a trip")
        .send();

    let model = run.child("model_request");
    agent.emit("model.requesting").run(model.clone()).send();
    for token in ["Lis", "bon", " in", " May"] {
        agent
            .emit("model.response.delta")
            .run(model.clone())
            .payload(json!({"delta": token}))
            .send();
    }
    agent
        .emit("model.completed")
        .run(model)
        .payload(json!({"text": "Lisbon in May"}))
        .send();

    let tool = run.child("tool_execution");
    agent
        .emit("tool.called")
        .run(tool.clone())
        .payload(json!({"name": "search_flights"}))
        .send();
    agent
        .emit("tool.completed")
        .run(tool)
        .payload(json!({"flights": 3}))
        .send();
    agent.emit("agent_execution.completed").send();

    devtools.flush(Duration::from_secs(3));
    let stats = devtools.stats();
    devtools.shutdown(Duration::ZERO);
    println!(
        "accepted {} sent {} in {} requests, dropped {}, retries {}",
        stats.accepted,
        stats.sent,
        stats.requests,
        stats.dropped.total(),
        stats.retries
    );
    if stats.sent == stats.accepted {
        println!("run tree: {url}/observation/runs/{}/tree", run.root_id());
    } else if let Some(error) = &stats.last_error {
        println!("not all sent (is the server up?): {error}");
    }
    Ok(())
}
