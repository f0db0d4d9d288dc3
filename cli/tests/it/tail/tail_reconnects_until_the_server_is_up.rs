//! `event-center tail` started before its server keeps retrying (saying
//! so) and follows the server's events once it is up.

use crate::support;

use serde_json::json;

#[test]
fn tail_reconnects_until_the_server_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let url = format!("http://127.0.0.1:{port}");
    let mut tail = support::Process::start(&["tail", "--url", &url]);
    for _ in 0..2 {
        tail.wait_stderr("retrying", |l| l.contains("reconnecting in"));
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut serve = support::Process::start(&["serve", "--port", &port, "--data-dir", data]);
    serve.wait_stdout("listening", |l| l.starts_with("event-center: serving on"));
    tail.wait_stderr("following the stream", |l| l.starts_with("tail: following"));
    let batch = json!({"events": [{"event_type": "agent.back_online"}]});
    let (status, body) = support::post(&format!("{url}/observation/ingest"), None, &batch);
    assert_eq!(status, 200, "{body}");
    tail.wait_stdout("for the event", |l| l.contains("agent.back_online"));
}
