//! Clicking an event shows its whole JSON in the detail pane, pretty-printed
//! and as text: markup inside a payload is shown, never run.

use crate::support::viewer_browser::{event, run, Viewer};
use serde_json::{json, Value};

#[test]
fn clicking_an_event_shows_its_json_in_the_viewer() {
    let viewer = Viewer::open();
    let mut posted = event("d-1", "model.completed", run("detail-run", None));
    posted["message"] = json!("answered");
    posted["payload"] = json!({
        "text": "<img src=x onerror=\"document.body.dataset.pwned=1\">",
        "tokens": {"input": 12, "output": 34},
        "choices": [1, 2.5, null, true],
    });
    viewer.post(json!([
        posted.clone(),
        event("d-2", "tool.called", json!(null))
    ]));
    viewer.wait_for(
        "both events listed",
        "return document.querySelectorAll('#event-list [data-event-id]').length",
        |n| *n == json!(2),
    );

    viewer.click("#event-list [data-event-id=\"d-1\"]");
    let text = viewer.wait_for(
        "the detail pane shows d-1",
        "return document.querySelector('#event-detail').textContent",
        |text| text.as_str().is_some_and(|t| t.contains("\"d-1\"")),
    );
    let text = text.as_str().unwrap();
    assert!(
        text.contains("\n  \"event_type\""),
        "pretty-printed: {text}"
    );
    let shown: Value = serde_json::from_str(text).expect("the detail pane holds JSON");
    for field in [
        "event_id",
        "event_type",
        "source",
        "level",
        "message",
        "payload",
        "timestamp",
    ] {
        assert_eq!(shown[field], posted[field], "{field}");
    }
    assert_eq!(shown["run"]["run_id"], "detail-run");
    assert_eq!(
        viewer.js(
            "return [document.querySelectorAll('#event-detail *').length,
                     document.body.dataset.pwned ?? null,
                     document.querySelector('#event-list [aria-selected=\"true\"]').dataset.eventId]"
        ),
        json!([0, null, "d-1"])
    );

    viewer.click("#event-list [data-event-id=\"d-2\"]");
    viewer.wait_for(
        "the detail pane shows d-2",
        "return JSON.parse(document.querySelector('#event-detail').textContent).event_id",
        |id| id == "d-2",
    );
}
