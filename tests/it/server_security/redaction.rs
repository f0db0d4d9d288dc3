//! Secrets sent by clients: values under secret-looking keys in any part of
//! an ingested event (payload, meta, run and its meta, error, unknown
//! fields) are masked before the event is stored or streamed, as the
//! library's own redaction masks them; every other byte is kept as sent;
//! `Redaction::none()` (the command line's `--no-redact`) stores them as
//! sent.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use event_center::Redaction;
use serde_json::Value;
use tungstenite::Message;

use super::server::{agent, TestServer};

/// Every secret of [`EVENT`], each unique, so finding one anywhere is a leak.
const SECRETS: [&str; 12] = [
    "sk-payload-1",
    "hunter2-nested",
    "bearer-meta-3",
    "client-secret-4",
    "pk-run-5",
    "sid-cookie-6",
    "xk-error-7",
    "pw-extra-8",
    "akid-9",
    "cred-10",
    "set-cookie-11",
    "pwd-12",
];

/// An event with a secret in every part, and bytes that must stay as sent.
const EVENT: &str = r#"{"event_id":"secret-1","event_type":"tool.called","message":"login with password: shown, free text",
 "payload":{"api_key":"sk-payload-1","n":1e2,"big":123456789012345678901234567890,"nested":[{"Password":{"v":"hunter2-nested"}}],"usage":{"prompt_tokens":12}},
 "meta":{"Authorization":"bearer-meta-3","tenant":"t1"},
 "run":{"run_id":"secret-run","run_kind":"agent_execution","meta":{"CLIENT_SECRET":"client-secret-4","flow":"f"},"private_key":"pk-run-5"},
 "error":{"type":"HttpError","message":"401","details":{"headers":{"cookie":"sid-cookie-6"}},"X-Api-Key":"xk-error-7"},
 "passwd":"pw-extra-8","AWS_ACCESS_KEY_ID":"akid-9","credentials":{"user":"cred-10"},"Set-Cookie":["set-cookie-11"],"PWD":"pwd-12","password_set":true,"token_count":3}"#;

/// Text that must reach the store exactly as sent.
const KEPT: [&str; 6] = [
    r#""n":1e2"#,
    r#""big":123456789012345678901234567890"#,
    r#""usage":{"prompt_tokens":12}"#,
    r#""tenant":"t1""#,
    r#""password_set":true"#,
    "login with password: shown, free text",
];

/// Posts [`EVENT`] while an SSE and a websocket subscriber listen; returns
/// what each received.
fn post_and_listen(server: &TestServer) -> (String, String) {
    let sse = agent()
        .get(&format!(
            "{}/observation/stream?limit=1&payload_mode=raw",
            server.url()
        ))
        .call()
        .expect("the stream opens");
    let url = format!("ws://{}/observation/ws?limit=1", server.handle.local_addr());
    let (mut socket, _) = tungstenite::connect(url.as_str()).expect("the websocket opens");
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
    }
    let (status, answer) =
        server.post_text("/observation/ingest", &format!("{{\"events\":[{EVENT}]}}"));
    assert_eq!(status, 200, "{answer}");
    let streamed = BufReader::new(sse.into_reader())
        .lines()
        .map(|line| line.expect("a line of the stream"))
        .find_map(|line| line.strip_prefix("data: ").map(str::to_owned))
        .expect("the event on the stream");
    let socketed = loop {
        if let Message::Text(text) = socket.read().expect("a message") {
            break text.to_string();
        }
    };
    (streamed, socketed)
}

/// Every place a stored event can be read from, as text.
fn everything(server: &TestServer, streams: (String, String)) -> Vec<(&'static str, String)> {
    let text = |path: &str| {
        agent()
            .get(&format!("{}{path}", server.url()))
            .call()
            .expect("GET")
            .into_string()
            .expect("a body")
    };
    let conn = rusqlite::Connection::open(server.dir.path().join("observations.sqlite3"))
        .expect("open the store");
    let stored: String = conn
        .query_row(
            "SELECT json FROM events WHERE event_id = 'secret-1'",
            [],
            |row| row.get(0),
        )
        .expect("the stored event");
    let run_meta: String = conn
        .query_row(
            "SELECT meta FROM runs WHERE run_id = 'secret-run'",
            [],
            |row| row.get(0),
        )
        .expect("the run record");
    vec![
        ("store", stored),
        ("run record", run_meta),
        ("raw", text("/observation/events/secret-1/raw")),
        ("recent", text("/observation/events/recent")),
        (
            "run events",
            text("/observation/runs/secret-run/events?payload_mode=raw"),
        ),
        ("run", text("/observation/runs/secret-run")),
        ("sse", streams.0),
        ("websocket", streams.1),
    ]
}

#[test]
fn secrets_posted_in_every_part_are_masked_in_the_store_the_api_and_the_streams() {
    let server = TestServer::start();
    let streams = post_and_listen(&server);
    for (place, text) in everything(&server, streams) {
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} reached the {place}: {text}"
            );
        }
        if place != "run record" && place != "run" {
            assert!(text.contains("[REDACTED]"), "{place}: {text}");
        }
    }
    let raw: Value = server.data("/observation/events/secret-1/raw");
    assert_eq!(raw["payload"]["nested"][0]["Password"], "[REDACTED]");
    assert_eq!(raw["run"]["meta"]["CLIENT_SECRET"], "[REDACTED]");
    assert_eq!(raw["error"]["X-Api-Key"], "[REDACTED]");
    assert_eq!(raw["Set-Cookie"], "[REDACTED]");
    assert_eq!(raw["token_count"], 3);
    // Every other byte as sent.
    let stored = &everything(&server, (String::new(), String::new()))[0].1;
    for kept in KEPT {
        assert!(stored.contains(kept), "{kept} not kept in {stored}");
    }
}

#[test]
fn redaction_none_stores_secrets_as_sent() {
    let server = TestServer::with(|builder| builder.with_redaction(Redaction::none()));
    let streams = post_and_listen(&server);
    for (place, text) in everything(&server, streams) {
        if matches!(place, "run record" | "run") {
            assert!(text.contains("client-secret-4"), "{place}: {text}");
            continue;
        }
        for secret in SECRETS {
            assert!(
                text.contains(secret),
                "{secret} missing from the {place}: {text}"
            );
        }
    }
}
