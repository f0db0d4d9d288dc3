//! Memory under overload: many concurrent 8 MiB bodies and hundreds of
//! stalled stream subscribers (server-sent events and websockets that never
//! read) must not grow the server past 1 GiB; a full in-flight budget
//! answers 503 with `Retry-After` and a client that retries lands all its
//! events; a subscriber that falls behind sees a counted gap, then events
//! again.
//!
//! The server of the peak-memory test runs in a child process
//! ([`ChildServer`]), so that its peak resident size is its own, not that
//! of the clients or of the other tests of this binary.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::child::ChildServer;
use super::server::TestServer;

/// A raw HTTP/1.1 request; the status, headers and body of the answer
/// (the connection is closed after it).
pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body_len: usize,
    write_body: impl FnOnce(&mut TcpStream) -> std::io::Result<()>,
    timeout: Duration,
) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
    )?;
    write_body(&mut stream)?;
    stream.flush()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, head.to_owned(), body.to_owned()))
}

/// The text of events `from..to` of client `client`: each about `size`
/// bytes, with fixed-width ids (so the body's length is known ahead).
fn event_text(client: usize, i: usize, pad: &str) -> String {
    format!(
        r#"{{"event_id":"m{client:03}-{i:08}","event_type":"load.tick","run":{{"run_id":"load-{client:03}","run_kind":"load"}},"payload":{{"pad":"{pad}"}}}}"#
    )
}

/// A body of `count` events of client `client`, written in pieces.
fn stream_body(
    client: usize,
    count: usize,
    pad: &str,
) -> (usize, impl FnOnce(&mut TcpStream) -> std::io::Result<()>) {
    let head = r#"{"app_id":"load","events":["#;
    let one = event_text(client, 0, pad).len();
    let len = head.len() + count * one + count.saturating_sub(1) + 2;
    let pad = pad.to_owned();
    let write = move |stream: &mut TcpStream| {
        let mut buffer = String::with_capacity(1 << 16);
        buffer.push_str(head);
        for i in 0..count {
            if i > 0 {
                buffer.push(',');
            }
            buffer.push_str(&event_text(client, i, &pad));
            if buffer.len() > 60_000 {
                stream.write_all(buffer.as_bytes())?;
                buffer.clear();
            }
        }
        buffer.push_str("]}");
        stream.write_all(buffer.as_bytes())
    };
    (len, write)
}

/// Posts a body of `count` events until it is taken, waiting as
/// `Retry-After` says after each 503 (or until `stop` is set); the events
/// it stored, and how many 503s it got.
fn post_until_taken(
    addr: SocketAddr,
    client: usize,
    count: usize,
    pad: &str,
    stop: &AtomicBool,
) -> (u64, u32) {
    let mut busy = 0;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "client {client} never got in");
        if stop.load(Ordering::SeqCst) {
            return (0, busy);
        }
        let (len, write) = stream_body(client, count, pad);
        let answer = raw_request(
            addr,
            "POST",
            "/observation/ingest",
            len,
            write,
            Duration::from_secs(120),
        );
        match answer {
            // The server stopped under a client the test no longer waits for.
            _ if stop.load(Ordering::SeqCst) => return (0, busy),
            Ok((200, _, body)) => {
                let body: Value = serde_json::from_str(&body).expect("a JSON answer");
                return (body["data"]["ingested"].as_u64().expect("a count"), busy);
            }
            Ok((503, head, _)) => {
                let retry = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("retry-after:")
                            .map(|v| v.trim().to_owned())
                    })
                    .expect("a 503 says when to retry");
                busy += 1;
                let seconds: u64 = retry.parse().expect("Retry-After in seconds");
                std::thread::sleep(Duration::from_secs(seconds));
            }
            Ok((status, _, body)) => panic!("client {client}: HTTP {status}: {body}"),
            // A connection the overloaded server dropped: retry too.
            Err(_) => {
                busy += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Opens a stream subscription that never reads: `/stream` or `/ws`, in
/// raw payload mode (the largest views, and no compaction to spend the
/// time of an unoptimized test build on).
fn stalled_subscriber(addr: SocketAddr, websocket: bool) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("a connection");
    let request = if websocket {
        format!(
            "GET /observation/ws?payload_mode=raw HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )
    } else {
        format!("GET /observation/stream?payload_mode=raw HTTP/1.1\r\nHost: {addr}\r\n\r\n")
    };
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    stream
}

/// Tells the clients of the peak-memory test to stop retrying.
static STOP: AtomicBool = AtomicBool::new(false);

#[test]
fn sixty_four_8_mib_bodies_and_500_stalled_subscribers_stay_under_1_gib() {
    let server = ChildServer::start(json!({ "max_events": 20_000 }));
    let addr = server.addr;
    let subscribers: Vec<TcpStream> = (0..500)
        .map(|i| stalled_subscriber(addr, i % 2 == 1))
        .collect();
    // 8 MiB bodies of ~8 KiB events, all sent at once; they are taken a
    // few at a time, the others wait or are told to retry.
    let pad = "x".repeat(8000);
    let per_body = (8 << 20) / (event_text(0, 0, &pad).len() + 1) - 1;
    let started = Instant::now();
    let clients: Vec<_> = (0..64)
        .map(|client| {
            let pad = pad.clone();
            std::thread::spawn(move || post_until_taken(addr, client, per_body, &pad, &STOP))
        })
        .collect();
    // Long enough for the peak (all 64 bodies are sent in the first
    // seconds); an unoptimized build stores them all in minutes.
    let until = started + Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 120 });
    while Instant::now() < until && !clients.iter().all(|c| c.is_finished()) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let peak = server.peak_rss();
    STOP.store(true, Ordering::SeqCst);
    let (mut taken, mut busy) = (0, 0);
    for client in clients.into_iter().filter(|c| c.is_finished()) {
        let (stored, retried) = client.join().expect("a client thread");
        // A body taken is taken whole.
        assert!(
            stored == 0 || stored == per_body as u64,
            "{stored} of {per_body}"
        );
        taken += usize::from(stored > 0);
        busy += retried;
    }
    eprintln!(
        "64 bodies of {per_body} events (8 MiB) and 500 stalled subscribers: peak RSS {} MiB; \
         {taken} bodies taken in {:.0} s, {busy} answers 503 (then retried)",
        peak >> 20,
        started.elapsed().as_secs_f64()
    );
    assert!(taken > 0, "no body was taken");
    assert!(
        peak < 1 << 30,
        "the server's peak resident size was {} MiB",
        peak >> 20
    );
    drop(subscribers);
}

#[test]
fn a_full_budget_answers_503_with_retry_after_and_the_retried_events_land() {
    let server = ChildServer::start(json!({ "in_flight": 1 << 20, "admission_wait_ms": 200 }));
    let addr = server.addr;
    // A client that announces a large body and sends none of it holds the
    // whole budget.
    let mut holder = TcpStream::connect(addr).expect("a connection");
    write!(
        holder,
        "POST /observation/ingest HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 4000000\r\n\r\n"
    )
    .expect("the headers are sent");
    std::thread::sleep(Duration::from_millis(200));
    let (len, write) = stream_body(999, 10, "y");
    let (status, head, body) = raw_request(
        addr,
        "POST",
        "/observation/ingest",
        len,
        write,
        Duration::from_secs(30),
    )
    .expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    // The holder gives up; the retrying client lands all its events.
    static NEVER: AtomicBool = AtomicBool::new(false);
    let retried = std::thread::spawn(move || post_until_taken(addr, 998, 10, "y", &NEVER));
    std::thread::sleep(Duration::from_millis(500));
    drop(holder);
    let (stored, busy) = retried.join().expect("the retrying client");
    assert_eq!(stored, 10);
    eprintln!("the retrying client got {busy} 503s before its batch was taken");
}

/// Reads a stream's text until `wanted` is in it (or the deadline).
fn read_until(stream: &mut TcpStream, seen: &mut String, wanted: &str, deadline: Instant) -> bool {
    let mut buffer = vec![0; 1 << 16];
    while !seen.contains(wanted) {
        if Instant::now() > deadline {
            return false;
        }
        match stream.read(&mut buffer) {
            Ok(0) => return false,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Posts `batches` of 500 events of `size` bytes from client `client`.
fn flood(server: &TestServer, client: usize, batches: usize, pad: &str) {
    for b in 0..batches {
        let events: Vec<Value> = (0..500)
            .map(|i| serde_json::from_str(&event_text(client, b * 500 + i, pad)).unwrap())
            .collect();
        server.ingest(Value::Array(events));
    }
}

#[test]
fn a_lagging_stream_subscriber_sees_a_counted_gap_then_events_again() {
    let server = TestServer::with(|b| b.with_stream_buffer(1 << 20));
    let addr: SocketAddr = server.handle.local_addr();
    let mut sse = stalled_subscriber(addr, false);
    let (mut ws, _) =
        tungstenite::client::connect(format!("ws://{addr}/observation/ws")).expect("a websocket");
    if let tungstenite::stream::MaybeTlsStream::Plain(socket) = ws.get_mut() {
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("a timeout");
    }
    std::thread::sleep(Duration::from_millis(200));
    // 40 MB of events while neither subscriber reads: far more than the
    // buffer and the sockets hold.
    flood(&server, 1, 80, &"z".repeat(1000));
    let marker = "after-the-gap";
    server.ingest(json!([{ "event_id": marker, "event_type": "load.marker" }]));

    sse.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("a timeout");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    assert!(
        read_until(&mut sse, &mut seen, "event: gap", deadline),
        "the SSE subscriber is told of the gap"
    );
    let at = seen.find("event: gap").unwrap();
    let gap_line = seen[at..].lines().nth(1).unwrap_or_default().to_owned();
    assert!(gap_line.starts_with("data: {"), "{gap_line}");
    assert!(
        read_until(&mut sse, &mut seen, marker, deadline),
        "then receives events again"
    );
    assert!(seen.rfind(marker) > Some(at));

    let mut gap = None;
    let mut marker_seen = false;
    while !marker_seen && Instant::now() < deadline {
        match ws.read() {
            Ok(tungstenite::Message::Text(text)) => {
                let message: Value = serde_json::from_str(&text).expect("JSON messages");
                if message["type"] == "gap" {
                    gap = message["skipped"].as_u64();
                } else if message["event_id"] == marker {
                    marker_seen = true;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("the websocket broke: {e}"),
        }
    }
    let skipped = gap.expect("the websocket subscriber is told of the gap");
    assert!(skipped > 0 && marker_seen, "then receives events again");
    let health = server.data("/healthz");
    let counted = health["stream_events_skipped"].as_u64().expect("a count");
    eprintln!("websocket gap of {skipped} events; {counted} skipped in all; SSE: {gap_line}");
    assert!(counted >= skipped);
}
