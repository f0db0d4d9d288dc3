//! The run tree nests runs under their parents, at any depth. A child whose
//! parent has not arrived yet waits at the top level and moves under the
//! parent when it arrives.

use crate::support::viewer_browser::{event, run, Viewer};
use serde_json::json;

const TOP_LEVEL: &str =
    "return [...document.querySelectorAll('#run-tree > [data-run-id]')].map(e => e.dataset.runId).sort()";

fn parent_in_tree(viewer: &Viewer, run_id: &str) -> serde_json::Value {
    viewer.js(&format!(
        "return document.querySelector('#run-tree [data-run-id=\"{run_id}\"]')
             ?.parentElement.closest('[data-run-id]')?.dataset.runId ?? null"
    ))
}

#[test]
fn the_viewer_nests_child_runs_under_their_parent() {
    let viewer = Viewer::open();

    // The child first: its parent is unknown, so it is shown at the top.
    viewer.post(json!([event(
        "n-1",
        "model.requesting",
        run("child", Some("parent"))
    )]));
    viewer.wait_for("the orphan at the top level", TOP_LEVEL, |v| {
        *v == json!(["child"])
    });

    viewer.post(json!([event(
        "n-2",
        "agent_execution.started",
        run("parent", None)
    )]));
    viewer.wait_for("only the parent at the top level", TOP_LEVEL, |v| {
        *v == json!(["parent"])
    });
    assert_eq!(parent_in_tree(&viewer, "child"), "parent");

    // A grandchild and a second child, live.
    viewer.post(json!([
        event("n-3", "tool.called", run("grandchild", Some("child"))),
        event(
            "n-4",
            "workflow.execution_started",
            run("sibling", Some("parent"))
        ),
    ]));
    viewer.wait_for(
        "the grandchild under the child",
        "return document.querySelector('#run-tree [data-run-id=\"parent\"] [data-run-id=\"child\"] [data-run-id=\"grandchild\"]') !== null",
        |v| *v == json!(true),
    );
    assert_eq!(parent_in_tree(&viewer, "sibling"), "parent");
    assert_eq!(parent_in_tree(&viewer, "grandchild"), "child");
    assert_eq!(viewer.js(TOP_LEVEL), json!(["parent"]));
    assert_eq!(
        viewer.js("return document.querySelectorAll('#run-tree [data-run-id]').length"),
        4
    );
}
