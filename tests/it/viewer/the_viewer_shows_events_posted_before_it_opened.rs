//! The page starts with the server's recent events and runs, not an empty
//! list: what was posted before it opened is there, newest first.

use crate::support::viewer_browser::{event, run, Viewer};
use serde_json::{json, Value};

#[test]
fn the_viewer_shows_events_posted_before_it_opened() {
    let mut events: Vec<Value> = (0..30)
        .map(|i| event(&format!("old-{i:02}"), "tool.called", run("earlier", None)))
        .collect();
    for (i, event) in events.iter_mut().enumerate() {
        event["timestamp"] = json!(1_760_000_000_000i64 + i as i64 * 1000);
    }
    let expected: Vec<String> = (0..30).rev().map(|i| format!("old-{i:02}")).collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();

    let viewer = Viewer::start(None);
    viewer.post(json!(events));
    viewer.open_page(&viewer.server_url());
    viewer.wait_for_event_ids(&expected);
    viewer.wait_for(
        "the run is in the tree with the server's event count",
        "return document.querySelector('#run-tree [data-run-id=\"earlier\"] .count')?.textContent",
        |count| count == "30",
    );
}
