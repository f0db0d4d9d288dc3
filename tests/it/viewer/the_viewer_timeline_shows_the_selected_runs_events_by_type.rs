//! The timeline draws the selected run's events on a time axis, one row
//! per event type, left to right in time order; clicking a mark shows that
//! event.

use crate::support::viewer_browser::{event, run, strings, Viewer};
use serde_json::json;

#[test]
fn the_viewer_timeline_shows_the_selected_runs_events_by_type() {
    let viewer = Viewer::open();
    let base = 1_760_000_000_000i64;
    let mut events = vec![
        event("t-1", "agent_execution.started", run("timed", None)),
        event("t-2", "model.requesting", run("timed", None)),
        event("t-3", "model.requesting", run("timed", None)),
        event("t-4", "agent_execution.completed", run("timed", None)),
        event("t-5", "model.requesting", run("elsewhere", None)),
    ];
    for (event, offset) in events.iter_mut().zip([0, 100, 900, 1000, 500]) {
        event["timestamp"] = json!(base + offset);
    }
    viewer.post(json!(events));
    viewer.wait_for(
        "both runs in the tree",
        "return document.querySelectorAll('#run-tree [data-run-id]').length",
        |n| *n == json!(2),
    );
    assert_eq!(
        viewer.js("return document.querySelectorAll('#timeline [data-event-id]').length"),
        0,
        "no run selected, no marks"
    );

    viewer.click("#run-tree [data-run-id=\"timed\"] > .run-row");
    let marks = viewer.wait_for(
        "four marks",
        "return [...document.querySelectorAll('#timeline [data-event-id]')].map(m =>
            [m.dataset.eventId, Number(m.getAttribute('cx')), Number(m.getAttribute('cy'))])",
        |marks| marks.as_array().is_some_and(|m| m.len() == 4),
    );
    let labels = strings(&viewer.js(
        "return [...document.querySelectorAll('#timeline [data-event-type]')].map(l => l.dataset.eventType)",
    ));
    assert_eq!(
        labels,
        [
            "agent_execution.started",
            "model.requesting",
            "agent_execution.completed"
        ]
    );

    let mark = |id: &str| {
        let m = marks
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m[0] == id)
            .unwrap();
        (m[1].as_f64().unwrap(), m[2].as_f64().unwrap())
    };
    let (x1, y1) = mark("t-1");
    let (x2, y2) = mark("t-2");
    let (x3, y3) = mark("t-3");
    let (x4, y4) = mark("t-4");
    assert!(x1 < x2 && x2 < x3 && x3 < x4, "time order: {marks}");
    // Positions are proportional to time: t-2 at 10 %, t-3 at 90 %.
    let ratio = (x2 - x1) / (x4 - x1);
    assert!((ratio - 0.1).abs() < 0.01, "{marks}");
    let ratio = (x3 - x1) / (x4 - x1);
    assert!((ratio - 0.9).abs() < 0.01, "{marks}");
    // One row per type: both model.requesting marks share a row.
    assert_eq!(y2, y3);
    assert!(y1 < y2 && y2 < y4, "{marks}");

    viewer.click("#timeline [data-event-id=\"t-3\"]");
    viewer.wait_for(
        "the detail pane shows t-3",
        "return JSON.parse(document.querySelector('#event-detail').textContent).event_id",
        |id| id == "t-3",
    );
}
