#![cfg(all(feature = "server", feature = "devtools-client"))]
//! This crate's `DevtoolsForwarder`, written for Agently DevTools, works
//! against the observation server unchanged: with the server's API key it
//! sends every event of a run with child runs, all are stored once, and the
//! tree has the forwarder's app, group and environment.

use std::time::Duration;

use crate::support::observation_server::TestServer;
use event_center::{DevtoolsForwarder, EventCenter, RunContext};

#[test]
fn the_devtools_forwarder_reports_to_this_server() {
    let server = TestServer::with_key("forwarder-key");
    let center = EventCenter::new();
    let guard = DevtoolsForwarder::builder(server.url())
        .with_api_key("forwarder-key")
        .with_app_id("forwarded")
        .with_group_id("team")
        .with_environment("ci")
        .register(&center, "devtools")
        .unwrap();

    let run = RunContext::new("agent_execution").with_run_id("fwd-root");
    let model = run.child("model_request").with_run_id("fwd-model");
    let emitter = center.emitter("Planner").with_run(run.clone());
    emitter.emit("agent.started").send();
    for i in 0..250 {
        emitter
            .emit("model.progress")
            .run(model.clone())
            .payload(serde_json::json!({ "i": i }))
            .send();
    }
    emitter.emit("model.completed").run(model).send();
    emitter.emit("agent.completed").send();
    guard.flush(Duration::from_secs(20));
    let stats = guard.stats();
    guard.shutdown(Duration::from_secs(20));
    assert_eq!(
        (stats.sent, stats.dropped.total(), stats.pending),
        (253, 0, 0),
        "{stats:?}"
    );

    let events = server.data("/observation/runs/fwd-root/events?include_descendants=true");
    assert_eq!(events.as_array().unwrap().len(), 253);
    let tree = server.data("/observation/runs/fwd-root/tree");
    assert_eq!(tree["run"]["status"], "completed");
    assert_eq!(tree["run"]["meta"]["app_id"], "forwarded");
    assert_eq!(tree["run"]["meta"]["group_id"], "team");
    assert_eq!(tree["run"]["meta"]["environment"], "ci");
    assert_eq!(tree["children"][0]["run"]["run_id"], "fwd-model");
    assert_eq!(tree["children"][0]["run"]["event_count"], 251);
}
