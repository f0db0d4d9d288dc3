//! `event-center demo --events N` runs its agents through the HTTP ingest
//! path until N events, exits 0 once all are stored, and leaves runs that
//! the server's API shows as a tree: a planner with child agents, their
//! model and tool runs, a failed tool run with its error event, model
//! deltas, and the `tool.*` twins of the action loop.

use crate::support;

use serde_json::Value;

fn events_of(url: &str, run_id: &str, query: &str) -> Vec<Value> {
    let events = support::data(&format!("{url}/observation/runs/{run_id}/events?{query}"));
    events.as_array().unwrap().clone()
}

#[test]
fn demo_with_events_stores_a_run_tree_with_a_failure_and_tool_twins() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let demo = support::run(&["demo", "--port", "0", "--events", "150", "--data-dir", data]);
    assert!(demo.status.success(), "{:?}\n{:?}", demo.out, demo.err);
    assert!(
        demo.out[0].starts_with("event-center demo: open http://127.0.0.1:"),
        "{:?}",
        demo.out
    );
    let rounds: Vec<&String> = demo
        .out
        .iter()
        .filter(|l| l.starts_with("round "))
        .collect();
    assert!(rounds.len() >= 2, "{:?}", demo.out);
    let last = demo.out.last().unwrap();
    assert!(
        last.contains(&format!(
            "in {} rounds, {} tool.* twins",
            rounds.len(),
            3 * rounds.len()
        )),
        "{last}"
    );
    let root = rounds[0].rsplit('/').nth(1).unwrap().to_owned();

    let (_serve, url) = support::serve(dir.path(), &[]);
    let tree = support::data(&format!("{url}/observation/runs/{root}/tree"));
    assert_eq!(tree["run"]["agent_name"], "planner");
    assert_eq!(tree["run"]["status"], "completed");
    let children = tree["children"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = children
        .iter()
        .map(|c| {
            (
                c["run"]["run_kind"].as_str().unwrap(),
                c["run"]["agent_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("model_request", "planner"),
            ("agent_execution", "researcher"),
            ("agent_execution", "booker")
        ]
    );
    let booker = &children[2];
    let statuses: Vec<&str> = booker["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["run"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "completed"]);
    assert_eq!(children[1]["children"].as_array().unwrap().len(), 3);

    let errors = events_of(&url, &root, "include_descendants=true&level=ERROR");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["event_type"], "tool.failed");
    assert_eq!(errors[0]["error"]["type"], "TimeoutError");

    let all = events_of(&url, &root, "include_descendants=true");
    assert!(
        all.iter()
            .filter(|e| e["event_type"] == "model.response.delta")
            .count()
            >= 20
    );
    let own = events_of(&url, &root, "");
    for suffix in ["loop_started", "plan_ready", "loop_completed"] {
        let primary = own
            .iter()
            .find(|e| e["event_type"] == format!("action.{suffix}"))
            .unwrap_or_else(|| panic!("action.{suffix} is stored"));
        let twin = own
            .iter()
            .find(|e| e["event_type"] == format!("tool.{suffix}"))
            .unwrap_or_else(|| panic!("tool.{suffix} is stored"));
        assert_eq!(twin["meta"]["compat_alias_for"], format!("action.{suffix}"));
        assert_eq!(twin["meta"]["primary_event_id"], primary["event_id"]);
        assert_eq!(twin["payload"], primary["payload"]);
    }
}
