//! When the live stream is refused (a proxy without server-sent events, a
//! restart), the page polls the recent events instead and still shows new
//! ones; when the stream is back, it reconnects and goes live again.

use crate::support::viewer_browser::{event, StreamGate, Viewer};
use serde_json::json;

#[test]
fn the_viewer_polls_while_the_stream_is_refused_and_goes_live_again() {
    let viewer = Viewer::start(None);
    let gate = StreamGate::start(&viewer.server_url());
    viewer.post(json!([event("s-1", "agent.started", json!(null))]));

    viewer.open_page(&gate.url());
    viewer.wait_for_connection("polling");
    viewer.wait_for_event_ids(&["s-1"]);
    viewer.post(json!([event("s-2", "tool.called", json!(null))]));
    viewer.wait_for_event_ids(&["s-2", "s-1"]);
    assert_eq!(
        viewer.js("return document.querySelector('#connection').dataset.state"),
        "polling",
        "s-2 came by polling: the stream is still refused"
    );

    gate.refuse_stream(false);
    viewer.wait_for_connection("live");
    viewer.post(json!([event("s-3", "tool.completed", json!(null))]));
    viewer.wait_for_event_ids(&["s-3", "s-2", "s-1"]);
}
