//! The type filter (globs, several at once) and the level filter narrow the
//! event list as soon as they change, together, and widen it again when
//! cleared.

use crate::support::viewer_browser::{event, Viewer};
use serde_json::json;

#[test]
fn the_viewer_filter_narrows_the_event_list() {
    let viewer = Viewer::open();
    let mut events = vec![
        event("f-1", "model.requesting", json!(null)),
        event("f-2", "model.completed", json!(null)),
        event("f-3", "tool.called", json!(null)),
        event("f-4", "tool.failed", json!(null)),
        event("f-5", "agent.step.planned", json!(null)),
        event("f-6", "modelx", json!(null)),
    ];
    events[1]["level"] = json!("WARNING");
    events[3]["level"] = json!("ERROR");
    events[4]["level"] = json!("DEBUG");
    for (i, event) in events.iter_mut().enumerate() {
        event["timestamp"] = json!(1_760_000_000_000i64 + i as i64);
    }
    viewer.post(json!(events));
    viewer.wait_for_event_ids(&["f-6", "f-5", "f-4", "f-3", "f-2", "f-1"]);

    // `*` spans dots; an exact name matches only itself.
    viewer.type_text("#pattern-filter", "agent.*");
    viewer.wait_for_event_ids(&["f-5"]);
    viewer.type_text("#pattern-filter", "model.*");
    viewer.wait_for_event_ids(&["f-2", "f-1"]);
    // Several patterns, by comma or space; `?` is one character.
    viewer.type_text("#pattern-filter", "model.completed, tool.?a*");
    viewer.wait_for_event_ids(&["f-4", "f-3", "f-2"]);
    viewer.type_text("#pattern-filter", "tool.[a-c]alled model?");
    viewer.wait_for_event_ids(&["f-6", "f-3"]);

    // The level filter is a minimum, and combines with the type filter.
    viewer.type_text("#pattern-filter", "");
    viewer.wait_for_event_ids(&["f-6", "f-5", "f-4", "f-3", "f-2", "f-1"]);
    viewer.select("#level-filter", "WARNING");
    viewer.wait_for_event_ids(&["f-4", "f-2"]);
    viewer.type_text("#pattern-filter", "tool.*");
    viewer.wait_for_event_ids(&["f-4"]);
    viewer.select("#level-filter", "INFO");
    viewer.wait_for_event_ids(&["f-4", "f-3"]);

    // New events are filtered as they arrive.
    viewer.post(json!([
        event("f-7", "tool.completed", json!(null)),
        event("f-8", "model.completed", json!(null)),
    ]));
    viewer.wait_for(
        "f-7 arrives",
        "return document.querySelector('#event-count').textContent",
        |text| text.as_str().is_some_and(|t| t.ends_with("/ 8 kept")),
    );
    viewer.wait_for_event_ids(&["f-7", "f-4", "f-3"]);

    viewer.type_text("#pattern-filter", "");
    viewer.select("#level-filter", "DEBUG");
    viewer.wait_for_event_ids(&["f-8", "f-7", "f-6", "f-5", "f-4", "f-3", "f-2", "f-1"]);
}
