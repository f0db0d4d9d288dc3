//! A page opened with `?api_key=KEY` sends the key on every request, the
//! live stream included; without it the server's 401 is shown with what to
//! do.

use crate::support::viewer_browser::{event, run, strings, Viewer};
use serde_json::json;

#[test]
fn the_viewer_sends_its_api_key_on_every_request() {
    let viewer = Viewer::start(Some("viewer-key"));
    viewer.post(json!([event("k-1", "agent.started", run("keyed", None))]));

    viewer.open_page(&viewer.server_url());
    viewer.wait_for_connection("error");
    let notice = viewer.js("return document.querySelector('#notice').textContent");
    let notice = notice.as_str().unwrap();
    assert!(
        notice.contains("401") && notice.contains("?api_key="),
        "{notice}"
    );
    viewer.wait_for_event_ids(&[]);

    viewer.open_page(&format!("{}/?api_key=viewer-key", viewer.server_url()));
    // Live: the stream was accepted, so it carried the key (the browser
    // lists a stream among its requests only once it ends).
    viewer.wait_for_connection("live");
    viewer.wait_for_event_ids(&["k-1"]);
    viewer.post(json!([event("k-2", "agent.completed", json!(null))]));
    viewer.wait_for_event_ids(&["k-2", "k-1"]);

    viewer.click("#run-tree [data-run-id=\"keyed\"] > .run-row");
    viewer.wait_for_event_ids(&["k-1"]);
    let requests = strings(&viewer.js(
        "return performance.getEntriesByType('resource').map(r => r.name)
             .filter(name => new URL(name).pathname.startsWith('/observation/'))",
    ));
    for path in [
        "/observation/events/recent",
        "/observation/runs?",
        "/observation/runs/keyed/events",
    ] {
        assert!(
            requests.iter().any(|r| r.contains(path)),
            "no request to {path}: {requests:?}"
        );
    }
    for request in &requests {
        assert!(request.contains("api_key=viewer-key"), "{request}");
    }
}
