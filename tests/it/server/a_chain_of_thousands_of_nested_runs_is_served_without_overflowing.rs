//! Parent links come from clients, so a run may sit thousands of levels
//! deep. Its record, the run list and the tree are still served (the tree
//! down to 256 levels below the run, the orphan check through 256
//! ancestors), never a crash of the server.

use crate::support::observation_server::{event, now_ms, run, TestServer};
use serde_json::Value;

const DEPTH: usize = 3000;

#[test]
fn a_chain_of_thousands_of_nested_runs_is_served_without_overflowing() {
    let server = TestServer::start();
    let t = now_ms() - 120_000;
    let mut events: Vec<Value> = (0..DEPTH)
        .map(|i| {
            let id = format!("level-{i}");
            let parent = (i > 0).then(|| format!("level-{}", i - 1));
            let r = run(&id, "action", parent.as_deref(), "level-0");
            event(&format!("e{i}"), "step.started", r, t + i as i64)
        })
        .collect();
    let root = run("level-0", "action", None, "level-0");
    events.push(event("done", "step.completed", root, t + DEPTH as i64));
    for chunk in events.chunks(501) {
        assert_eq!(
            server.ingest(Value::Array(chunk.to_vec())),
            chunk.len() as u64
        );
    }

    let deepest = server.data(&format!("/observation/runs/level-{}", DEPTH - 1));
    assert_eq!(deepest["parent_run_id"], format!("level-{}", DEPTH - 2));
    // Near the root, the root's end (a minute ago) makes its quiet
    // descendants orphans.
    assert_eq!(server.data("/observation/runs/level-5")["status"], "failed");

    let listed = server.data("/observation/runs?limit=100000");
    assert_eq!(listed.as_array().unwrap().len(), DEPTH);

    // Read as text: the tree nests deeper than serde_json parses by default.
    let tree = ureq::get(&format!("{}/observation/runs/level-0/tree", server.url()))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(tree.starts_with("{\"status\":200,"));
    assert_eq!(tree.matches("\"run\":{\"run_id\":\"level-").count(), 257);
    assert!(tree.contains("\"run_id\":\"level-256\""));
    assert!(!tree.contains("\"run_id\":\"level-257\""));
}
