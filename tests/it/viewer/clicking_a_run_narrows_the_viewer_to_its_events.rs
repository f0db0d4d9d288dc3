//! Clicking a run in the tree narrows the event list to that run's events
//! (with its child runs' when asked); clicking it again shows every run's.

use crate::support::viewer_browser::{event, run, Viewer};
use serde_json::json;

#[test]
fn clicking_a_run_narrows_the_viewer_to_its_events() {
    let viewer = Viewer::open();
    let mut events = vec![
        event("r-1", "agent_execution.started", run("root", None)),
        event("r-2", "model.requesting", run("kid", Some("root"))),
        event("r-3", "model.completed", run("kid", Some("root"))),
        event("r-4", "agent_execution.started", run("other", None)),
        event("r-5", "agent_execution.completed", run("root", None)),
        event("r-6", "runtime.info", json!(null)),
    ];
    for (i, event) in events.iter_mut().enumerate() {
        event["timestamp"] = json!(1_760_000_000_000i64 + i as i64 * 10);
    }
    viewer.post(json!(events));
    viewer.wait_for_event_ids(&["r-6", "r-5", "r-4", "r-3", "r-2", "r-1"]);

    viewer.click("#run-tree [data-run-id=\"root\"] > .run-row");
    viewer.wait_for_event_ids(&["r-5", "r-1"]);
    viewer.wait_for(
        "the run's line is marked selected",
        "return document.querySelector('#run-tree [data-run-id=\"root\"] > .run-row').getAttribute('aria-selected')",
        |selected| selected == "true",
    );

    viewer.click("#with-descendants");
    viewer.wait_for_event_ids(&["r-5", "r-3", "r-2", "r-1"]);

    // A new event of the selected run shows up; one of another run does not.
    let mut late = vec![
        event("r-7", "tool.called", run("kid", Some("root"))),
        event("r-8", "tool.called", run("other", None)),
    ];
    late[0]["timestamp"] = json!(1_760_000_000_100i64);
    late[1]["timestamp"] = json!(1_760_000_000_110i64);
    viewer.post(json!(late));
    viewer.wait_for(
        "both late events arrive",
        "return document.querySelector('#event-count').textContent",
        |text| text.as_str().is_some_and(|t| t.ends_with("/ 8 kept")),
    );
    viewer.wait_for_event_ids(&["r-7", "r-5", "r-3", "r-2", "r-1"]);

    viewer.click("#run-tree [data-run-id=\"kid\"] > .run-row");
    viewer.wait_for_event_ids(&["r-7", "r-3", "r-2"]);

    viewer.click("#run-tree [data-run-id=\"kid\"] > .run-row");
    viewer.wait_for_event_ids(&["r-8", "r-7", "r-6", "r-5", "r-4", "r-3", "r-2", "r-1"]);
}
