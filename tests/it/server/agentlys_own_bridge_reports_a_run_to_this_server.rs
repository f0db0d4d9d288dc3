//! Agently users can switch: Agently's own `ObservationBridge` (agently
//! 4.1.4.10 with agently-devtools 0.2.0, in the virtualenv
//! `scripts/devtools_server.sh install` makes), pointed at this server with
//! an API key, reports a run through `scripts/agently_client.py`; every
//! event it uploaded is stored and the run and its child are queryable with
//! their status, lineage and the bridge's app and group.

use std::process::Command;

use crate::support::observation_server::TestServer;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/agently_client.py");

#[test]
fn agentlys_own_bridge_reports_a_run_to_this_server() {
    event_center_test_support::devtools_server::ensure_installed();
    let server = TestServer::with_key("bridge-key");
    let home = tempfile::tempdir().unwrap();
    let output =
        Command::new(event_center_test_support::devtools_server::venv_dir().join("bin/python"))
            .arg(SCRIPT)
            .args([&server.url(), "bridge-key", "bridge-run"])
            .env("HOME", home.path())
            .output()
            .expect("run the virtualenv's python");
    assert!(
        output.status.success(),
        "the Agently client failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stats: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no stats line ({e}) in {stdout}"));
    assert_eq!(stats["upload_failure_count"], 0, "{stats}");
    let uploaded = stats["uploaded_event_count"].as_u64().unwrap();
    assert!(uploaded >= 5, "{stats}");

    let events = server.data("/observation/runs/bridge-run/events?include_descendants=true");
    assert_eq!(events.as_array().unwrap().len() as u64, uploaded);
    let types: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"agent.started"));
    assert_eq!(types.last(), Some(&"agent.completed"));
    assert!(types.contains(&"model.completed"));
    assert_eq!(events[0]["source"], "BridgeClient");
    assert_eq!(events[0]["payload"]["goal"], "answer");

    let tree = server.data("/observation/runs/bridge-run/tree");
    assert_eq!(tree["run"]["status"], "completed");
    assert_eq!(tree["run"]["agent_name"], "bridge-agent");
    assert_eq!(tree["run"]["meta"]["app_id"], "bridge-app");
    assert_eq!(tree["run"]["meta"]["group_id"], "bridge-group");
    let model = &tree["children"][0]["run"];
    assert_eq!(model["run_id"], "bridge-run-model");
    assert_eq!(model["status"], "completed");
    assert_eq!(model["latest_message"], "done");
    let listed = server.data("/observation/runs?app_id=bridge-app");
    assert_eq!(listed.as_array().unwrap().len(), 2);
}
