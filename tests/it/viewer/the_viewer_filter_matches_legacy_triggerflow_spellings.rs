//! The viewer's type filter treats TriggerFlow's legacy spellings as the
//! server's filters do: `workflow.X` (for workflow suffixes) and
//! `trigger_flow.X` (for native suffixes) match as `triggerflow.X`, and
//! the other way round; other spellings only match themselves.

use crate::support::viewer_browser::{event, Viewer};
use serde_json::json;

#[test]
fn the_viewer_filter_matches_legacy_triggerflow_spellings() {
    let viewer = Viewer::open();
    viewer.post(json!([
        event("t-1", "workflow.execution_started", json!(null)),
        event("t-2", "trigger_flow.signal", json!(null)),
        event("t-3", "triggerflow.result_set", json!(null)),
        // `trigger_flow.` aliases only the native suffixes.
        event("t-4", "trigger_flow.execution_started", json!(null)),
        event("t-5", "model.completed", json!(null)),
    ]));
    viewer.wait_for_event_ids(&["t-5", "t-4", "t-3", "t-2", "t-1"]);

    viewer.type_text("#pattern-filter", "triggerflow.*");
    viewer.wait_for_event_ids(&["t-3", "t-2", "t-1"]);

    // A legacy spelling in the filter matches the canonical name too.
    viewer.type_text("#pattern-filter", "workflow.*");
    viewer.wait_for_event_ids(&["t-3", "t-1"]);
    viewer.type_text("#pattern-filter", "trigger_flow.*");
    viewer.wait_for_event_ids(&["t-4", "t-2"]);
}
