//! A pattern the crate would refuse (an unclosed class, braces) marks the
//! filter invalid and is named in the notice with what to do, while the
//! other patterns in the box keep filtering.

use crate::support::viewer_browser::{event, Viewer};
use serde_json::json;

#[test]
fn a_bad_viewer_pattern_is_named_and_the_good_ones_still_filter() {
    let viewer = Viewer::open();
    let mut events = vec![
        event("b-1", "model.completed", json!(null)),
        event("b-2", "tool.called", json!(null)),
    ];
    events[1]["timestamp"] = json!(events[0]["timestamp"].as_i64().unwrap() + 1);
    viewer.post(json!(events));
    viewer.wait_for_event_ids(&["b-2", "b-1"]);

    viewer.type_text("#pattern-filter", "tool.[ab model.*");
    viewer.wait_for_event_ids(&["b-1"]);
    let state = viewer.js(
        "return [document.querySelector('#pattern-filter').getAttribute('aria-invalid'),
                 document.querySelector('#notice').textContent]",
    );
    assert_eq!(state[0], "true");
    let notice = state[1].as_str().unwrap();
    assert!(notice.contains("tool.[ab"), "{notice}");
    assert!(notice.contains("no closing ]"), "{notice}");

    viewer.type_text("#pattern-filter", "{model,tool}.*");
    viewer.wait_for_event_ids(&[]);
    let notice = viewer.js("return document.querySelector('#notice').textContent");
    assert!(
        notice.as_str().unwrap().contains("separate patterns"),
        "{notice}"
    );

    viewer.type_text("#pattern-filter", "tool.*");
    viewer.wait_for_event_ids(&["b-2"]);
    let state = viewer.js(
        "return [document.querySelector('#pattern-filter').getAttribute('aria-invalid'),
                 document.querySelector('#notice').textContent]",
    );
    assert_eq!(state, json!(["false", ""]));
}
