//! Events posted after the page opened arrive through the live stream:
//! newest at the top, with their run in the tree and its status following
//! the events, while the connection stays live (no fallback polling).

use crate::support::viewer_browser::{event, run, Viewer};
use serde_json::json;

#[test]
fn events_posted_to_the_server_appear_live_in_the_viewer() {
    let viewer = Viewer::open();
    viewer.wait_for_event_ids(&[]);

    viewer.post(json!([event(
        "live-1",
        "agent_execution.started",
        run("live-run", None)
    )]));
    viewer.wait_for_event_ids(&["live-1"]);
    viewer.wait_for(
        "the run shows as running",
        "return document.querySelector('#run-tree [data-run-id=\"live-run\"]')?.dataset.status",
        |status| status == "running",
    );

    viewer.post(json!([event(
        "live-2",
        "model.requesting",
        run("live-run", None)
    )]));
    viewer.post(json!([event(
        "live-3",
        "agent_execution.completed",
        run("live-run", None)
    )]));
    viewer.wait_for_event_ids(&["live-3", "live-2", "live-1"]);
    viewer.wait_for(
        "the run shows as completed",
        "return document.querySelector('#run-tree [data-run-id=\"live-run\"]')?.dataset.status",
        |status| status == "completed",
    );

    let row = viewer.js(
        "const row = document.querySelector('#event-list [data-event-id=\"live-2\"]');
         return [row.dataset.eventType, row.dataset.level, row.dataset.runId, row.textContent]",
    );
    assert_eq!(row[0], "model.requesting");
    assert_eq!(row[1], "INFO");
    assert_eq!(row[2], "live-run");
    assert!(row[3].as_str().unwrap().contains("ViewerTest"), "{row}");
    assert_eq!(
        viewer.js("return document.querySelector('#connection').dataset.state"),
        "live",
        "the events came through the stream, not the fallback"
    );
}
