//! Slow and idle clients: 1,100 connections dripping their headers one
//! byte every two seconds against a server process held to 1,024 open
//! files, a client dripping its head, a keep-alive connection left idle, a
//! body that stops arriving, and more connections than the limit. A
//! legitimate client is still answered; streams outlive the timeouts.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::child::ChildServer;
use super::server::{agent, answer, TestServer};

/// The slow clients.
const SLOW: usize = 1_100;
/// The default header timeout (the server under test uses the defaults).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the server has closed `stream` (read without waiting).
fn closed(mut stream: &TcpStream) -> bool {
    let mut byte = [0u8; 64];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn a_legitimate_client_is_answered_while_1100_slow_clients_hold_connections() {
    rlimit::increase_nofile_limit(4 * SLOW as u64).expect("room for the slow clients");
    let server = ChildServer::start(json!({ "open_files": 1024 }));
    let url = format!("http://{}", server.addr);

    let head = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nX-Slow: ", server.addr);
    let mut slow = Vec::with_capacity(SLOW);
    let connecting = Instant::now();
    while slow.len() < SLOW {
        assert!(
            connecting.elapsed() < Duration::from_secs(60),
            "only {} slow connections in 60 s",
            slow.len()
        );
        let Ok(mut stream) = TcpStream::connect_timeout(&server.addr, Duration::from_secs(2))
        else {
            continue;
        };
        let _ = stream.write_all(&head.as_bytes()[..1]);
        stream.set_nonblocking(true).expect("non-blocking");
        slow.push(stream);
    }
    let connected_in = connecting.elapsed();
    // One more byte of the head on each, every two seconds, until stopped.
    let dripping = Arc::new(AtomicBool::new(true));
    let drip = {
        let dripping = Arc::clone(&dripping);
        let mut streams: Vec<TcpStream> = slow
            .iter()
            .map(|s| s.try_clone().expect("a second handle"))
            .collect();
        let head = head.into_bytes();
        std::thread::spawn(move || {
            let mut at = 1;
            while dripping.load(Ordering::SeqCst) {
                for stream in &mut streams {
                    let _ = stream.write(&head[at % head.len()..at % head.len() + 1]);
                }
                at += 1;
                for _ in 0..20 {
                    if !dripping.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
    };
    let open_before = slow.iter().filter(|s| !closed(s)).count();

    let started = Instant::now();
    let (status, body) = answer(agent().get(&format!("{url}/healthz")).call());
    let healthz = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let started = Instant::now();
    let (status, body) = answer(
        agent()
            .post(&format!("{url}/observation/ingest"))
            .set("Content-Type", "application/json")
            .send_string(
                &json!({"events": [{"event_id": "legit", "event_type": "agent.started"}]})
                    .to_string(),
            ),
    );
    let ingest = started.elapsed();
    assert_eq!(status, 200, "{body}");
    eprintln!(
        "{SLOW} slow connections made in {connected_in:?}, {open_before} of them not closed by the \
         server; /healthz answered in {healthz:?}, a one-event ingest in {ingest:?}"
    );
    let limit = Duration::from_secs(5);
    assert!(
        healthz < limit && ingest < limit,
        "/healthz took {healthz:?}, ingest {ingest:?}"
    );

    // The slow ones are all closed by the header timeout.
    let waiting = Instant::now();
    let deadline = HEADER_TIMEOUT + Duration::from_secs(15);
    let mut open = SLOW;
    while waiting.elapsed() < deadline {
        open = slow.iter().filter(|s| !closed(s)).count();
        if open == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    dripping.store(false, Ordering::SeqCst);
    let _ = drip.join();
    eprintln!(
        "the last slow connection closed after {:?}",
        waiting.elapsed()
    );
    assert_eq!(open, 0, "slow connections still open after {deadline:?}");
}

/// Connects and sets a read timeout of `timeout`.
fn connect(addr: SocketAddr, timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("a timeout");
    stream
}

/// Blocks until the server closes `stream` (at most `within`); returns how
/// long that took, or `None` if it is still open.
fn wait_closed(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(within)).expect("a timeout");
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(_) => return Some(started.elapsed()),
        }
        if started.elapsed() > within {
            return None;
        }
    }
}

/// Sends a keep-alive `GET /healthz` and reads its whole answer.
fn healthz_kept_alive(stream: &mut TcpStream) -> u16 {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut status = String::new();
    reader.read_line(&mut status).expect("a status line");
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().expect("a length");
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("the body");
    status
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_client_dripping_its_head_is_closed_at_the_header_timeout() {
    let timeout = Duration::from_secs(1);
    let server = TestServer::with(|b| b.with_header_timeout(timeout));
    let addr = server.handle.local_addr();

    let mut dripping = connect(addr, Duration::from_secs(10));
    let mut writer = dripping.try_clone().expect("a second handle");
    let drip = std::thread::spawn(move || {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n" {
            if writer.write_all(&[*byte]).is_err() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    });
    let closed_after = wait_closed(&mut dripping, Duration::from_secs(10));
    let closed_after = closed_after.expect("closed at the header timeout");
    assert!(
        closed_after >= timeout - Duration::from_millis(100) && closed_after < timeout * 4,
        "closed after {closed_after:?}"
    );
    assert!(!drip.join().unwrap(), "the head never got through");

    // After a request, the next head has the timeout from its first byte.
    let mut kept = connect(addr, Duration::from_secs(10));
    assert_eq!(healthz_kept_alive(&mut kept), 200);
    std::thread::sleep(timeout + timeout / 2);
    assert_eq!(healthz_kept_alive(&mut kept), 200, "idle, not late");
    kept.write_all(b"GET /hea").expect("a first byte");
    let closed_after = wait_closed(&mut kept, Duration::from_secs(10)).expect("closed");
    assert!(closed_after < timeout * 4, "closed after {closed_after:?}");
    assert_eq!(server.get("/healthz").0, 200, "others are served");
}

#[test]
fn a_keep_alive_connection_idle_past_the_idle_timeout_is_closed() {
    let timeout = Duration::from_secs(1);
    let server = TestServer::with(|b| b.with_idle_timeout(timeout));
    let addr = server.handle.local_addr();

    let mut stream = connect(addr, Duration::from_secs(10));
    assert_eq!(healthz_kept_alive(&mut stream), 200);
    std::thread::sleep(timeout / 3);
    assert_eq!(healthz_kept_alive(&mut stream), 200, "kept alive meanwhile");
    let closed_after = wait_closed(&mut stream, Duration::from_secs(10)).expect("closed when idle");
    assert!(
        closed_after >= timeout - Duration::from_millis(100) && closed_after < timeout * 4,
        "closed after {closed_after:?}"
    );
}

#[test]
fn streams_outlive_the_header_and_idle_timeouts() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::with(|b| b.with_idle_timeout(timeout).with_header_timeout(timeout));
    let addr = server.handle.local_addr();

    let mut sse = connect(addr, Duration::from_secs(10));
    sse.write_all(b"GET /observation/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    let (mut ws, _) =
        tungstenite::connect(format!("ws://{addr}/observation/ws")).expect("the websocket opens");
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = ws.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
    }
    std::thread::sleep(timeout * 6);
    server.ingest(json!([{"event_id": "late", "event_type": "agent.started"}]));

    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"late\"") {
        match sse.read(&mut buffer) {
            Ok(0) | Err(_) => panic!(
                "the stream ended before the event: {}",
                String::from_utf8_lossy(&seen)
            ),
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    let message = ws.read().expect("the event on the websocket");
    assert!(message.to_string().contains("\"late\""), "{message}");
}

#[test]
fn a_body_that_stops_arriving_is_cut_at_the_body_timeout() {
    let timeout = Duration::from_secs(1);
    let server = TestServer::with(|b| b.with_body_timeout(timeout));
    let addr = server.handle.local_addr();

    let mut stream = connect(addr, Duration::from_secs(10));
    let started = Instant::now();
    stream
        .write_all(
            b"POST /observation/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"events\": [",
        )
        .expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let took = started.elapsed();
    let reply = String::from_utf8_lossy(&reply);
    let status: u16 = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!((400..500).contains(&status), "{reply}");
    assert!(reply.contains("body timeout"), "says why: {reply}");
    assert!(
        took >= timeout - Duration::from_millis(100) && took < timeout * 5,
        "answered after {took:?}"
    );
}

#[test]
fn connections_over_the_limit_are_closed_at_once_or_make_room() {
    // Three streams fill the limit: a fourth connection is turned away.
    let server = TestServer::with(|b| b.with_max_connections(3));
    let addr = server.handle.local_addr();
    let streams: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = connect(addr, Duration::from_secs(10));
            stream
                .write_all(b"GET /observation/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .expect("send");
            let mut head = [0u8; 12];
            stream.read_exact(&mut head).expect("the stream's answer");
            assert!(head.starts_with(b"HTTP/1.1 200"));
            stream
        })
        .collect();
    let mut fourth = connect(addr, Duration::from_secs(5));
    let started = Instant::now();
    let mut reply = Vec::new();
    let _ = fourth.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(started.elapsed() < Duration::from_secs(2), "closed at once");
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    drop(streams);

    // Three idle connections fill it: a new client takes the oldest's place.
    let server = TestServer::with(|b| b.with_max_connections(3));
    let addr = server.handle.local_addr();
    let mut idle: Vec<TcpStream> = (0..3)
        .map(|_| {
            let stream = connect(addr, Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(50));
            stream
        })
        .collect();
    let started = Instant::now();
    let fresh = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let (status, _) = answer(fresh.get(&format!("{}/healthz", server.url())).call());
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once"
    );
    assert!(
        wait_closed(&mut idle[0], Duration::from_secs(2)).is_some(),
        "the oldest idle connection made room"
    );
    idle[1].set_nonblocking(true).expect("non-blocking");
    assert!(!closed(&idle[1]), "only the oldest");
}
