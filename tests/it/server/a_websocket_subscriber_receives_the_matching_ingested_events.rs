//! `GET /observation/ws` upgrades to a websocket that sends each matching
//! event stored after the subscription as one JSON text message, with
//! Agently's parameters there (`event_type` repeatable, `source`, `limit`);
//! after `limit` events the server closes it.

use std::time::Duration;

use crate::support::observation_server::{event, now_ms, run, TestServer};
use serde_json::{json, Value};
use tungstenite::Message;

#[test]
fn a_websocket_subscriber_receives_the_matching_ingested_events() {
    let server = TestServer::start();
    let url = format!(
        "ws://{}/observation/ws?event_type=tool.called&source=Tester&limit=2",
        server.handle.local_addr()
    );
    let (mut socket, response) = tungstenite::connect(url.as_str()).expect("the websocket opens");
    assert_eq!(response.status().as_u16(), 101);
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
    }

    let t = now_ms();
    let r = run("run-ws", "agent_execution", None, "run-ws");
    let mut from_elsewhere = event("other-source", "tool.called", r.clone(), t);
    from_elsewhere["source"] = json!("Elsewhere");
    server.ingest(json!([
        from_elsewhere,
        event("first", "tool.called", r.clone(), t + 1),
        event("not-a-call", "tool.completed", r.clone(), t + 2),
        event("second", "tool.called", r.clone(), t + 3),
        event("third", "tool.called", r, t + 4),
    ]));

    let mut received = Vec::new();
    loop {
        match socket.read().expect("a message before the close") {
            Message::Text(text) => {
                let event: Value = serde_json::from_str(&text).expect("one JSON event");
                received.push(event["event_id"].as_str().unwrap().to_owned());
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert_eq!(received, ["first", "second"]);
}
