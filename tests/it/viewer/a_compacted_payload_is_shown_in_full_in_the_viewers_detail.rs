//! The server shortens large payloads in its lists; clicking such an event
//! reads the raw event and shows the whole payload.

use crate::support::viewer_browser::{event, Viewer};
use serde_json::{json, Value};

#[test]
fn a_compacted_payload_is_shown_in_full_in_the_viewers_detail() {
    let viewer = Viewer::open();
    let long = "0123456789".repeat(600);
    let mut posted = event("big-1", "model.completed", json!(null));
    posted["payload"] = json!({"text": long});
    viewer.post(json!([posted]));
    viewer.wait_for_event_ids(&["big-1"]);

    viewer.click("#event-list [data-event-id=\"big-1\"]");
    let text = viewer.wait_for(
        "the detail pane shows the whole payload",
        "return document.querySelector('#event-detail').textContent",
        |text| {
            serde_json::from_str::<Value>(text.as_str().unwrap_or(""))
                .is_ok_and(|shown| shown["payload"]["text"].as_str().map(str::len) == Some(6000))
        },
    );
    let shown: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    assert_eq!(shown["payload"]["text"], long.as_str());
    assert!(shown.get("devtools_view").is_none(), "{shown}");
}
