//! A run with child runs (and a grandchild), forwarded to a real Agently
//! DevTools server, reads back through the server's own query API as the
//! same tree, with every event and the batch's app, group and environment.

use std::time::Duration;

use event_center::{DevtoolsForwarder, EventCenter, RunContext};
use event_center_test_support::devtools_server::DevtoolsServer;
use serde_json::{json, Value};

fn kinds(children: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = children
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["run"]["run_kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

#[test]
fn a_run_with_child_runs_reaches_devtools_as_a_tree() {
    let server = DevtoolsServer::start();
    let center = EventCenter::new();
    let devtools = DevtoolsForwarder::builder(server.url())
        .with_app_id("tree-test")
        .with_group_id("g1")
        .with_environment("test")
        .with_batch(4, Duration::from_millis(20))
        .register(&center, "devtools")
        .unwrap();

    let root = RunContext::new("agent_execution").with_agent_name("planner");
    let model = root.child("model_request");
    let flow = root.child("workflow_execution");
    let tool = flow.child("tool_execution");
    let agent = center.emitter("Planner").with_run(root.clone());
    agent.emit("agent_execution.started").message("plan").send();
    agent.emit("model.requesting").run(model.clone()).send();
    agent
        .emit("model.completed")
        .run(model.clone())
        .payload(json!({"text": "Lisbon"}))
        .send();
    agent
        .emit("workflow.execution_started")
        .run(flow.clone())
        .send();
    agent
        .emit("tool.called")
        .run(tool.clone())
        .payload(json!({"name": "search"}))
        .send();
    agent.emit("tool.completed").run(tool.clone()).send();
    agent
        .emit("workflow.execution_completed")
        .run(flow.clone())
        .send();
    agent.emit("agent_execution.completed").send();

    devtools.flush(Duration::from_secs(30));
    let stats = devtools.stats();
    assert_eq!(
        (stats.accepted, stats.sent, stats.pending),
        (8, 8, 0),
        "{stats:?}"
    );
    assert!(stats.requests >= 2, "batches of 4: {stats:?}");

    let tree = server.get(&format!("/observation/runs/{}/tree", root.run_id));
    let run = &tree["run"];
    assert_eq!(run["run_id"], root.run_id.as_str());
    assert_eq!(run["run_kind"], "agent_execution");
    assert_eq!(run["agent_name"], "planner");
    assert_eq!(run["status"], "completed");
    assert_eq!(run["event_count"], 2);
    assert_eq!(run["meta"]["app_id"], "tree-test");
    assert_eq!(run["meta"]["group_id"], "g1");
    assert_eq!(run["meta"]["environment"], "test");

    let children = &tree["children"];
    assert_eq!(kinds(children), ["model_request", "workflow_execution"]);
    for child in children.as_array().unwrap() {
        assert_eq!(child["run"]["parent_run_id"], root.run_id.as_str());
        assert_eq!(child["run"]["root_run_id"], root.run_id.as_str());
        match child["run"]["run_kind"].as_str().unwrap() {
            "model_request" => {
                assert_eq!(child["run"]["run_id"], model.run_id.as_str());
                assert_eq!(child["run"]["event_count"], 2);
                assert_eq!(child["children"], json!([]));
            }
            _ => {
                assert_eq!(child["run"]["run_id"], flow.run_id.as_str());
                assert_eq!(kinds(&child["children"]), ["tool_execution"]);
                let grandchild = &child["children"][0]["run"];
                assert_eq!(grandchild["run_id"], tool.run_id.as_str());
                assert_eq!(grandchild["parent_run_id"], flow.run_id.as_str());
                assert_eq!(grandchild["root_run_id"], root.run_id.as_str());
                assert_eq!(grandchild["event_count"], 2);
            }
        }
    }

    let events = server.run_events(&root.run_id);
    let mut types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "agent_execution.completed",
            "agent_execution.started",
            "model.completed",
            "model.requesting",
            "tool.called",
            "tool.completed",
            "workflow.execution_completed",
            "workflow.execution_started",
        ]
    );
    devtools.flush(Duration::from_secs(10));
    let stats = devtools.stats();
    devtools.shutdown(Duration::from_secs(10));
    assert_eq!((stats.sent, stats.dropped.total()), (8, 0));
}
