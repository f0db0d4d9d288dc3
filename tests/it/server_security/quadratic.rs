//! Bodies built to make the server's work grow with the square of their
//! size (hundreds of thousands of unknown fields, of flow-definition keys,
//! of tiny events) at the default 8 MiB limit: each is processed in well
//! under a second of the server's CPU, and while it is, `/healthz` and a
//! one-event ingest from another client are answered at once.
//!
//! The server runs in a child process (see `memory.rs`), so its CPU time
//! is read from `/proc/PID/stat` alone.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::child::ChildServer;
use super::memory::raw_request;

/// The default body limit.
const LIMIT: usize = 8 << 20;
/// The server's CPU a worst body may take: 1 s, the goal, with a margin,
/// in an optimized build; an unoptimized test build (serde_json and SQLite
/// unoptimized too) takes 5 to 10 times as long.
const CPU_BOUND: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(10)
} else {
    Duration::from_millis(1500)
};
/// How long `/healthz` and a one-event ingest may take meanwhile (100 ms,
/// the goal, with a margin for a loaded machine).
const LATENCY_BOUND: Duration = Duration::from_secs(1);

/// A short distinct key for `i` (an `x` first, so that none is a known
/// field such as `run` or `meta`).
fn key(i: usize) -> String {
    let mut out = String::from("x");
    let mut n = i;
    loop {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return out;
        }
    }
}

/// `{"k0":V,"k1":V,...}` with `count` keys.
fn object(count: usize, value: &str) -> String {
    let mut out = String::with_capacity(count * (value.len() + 10));
    out.push('{');
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":{value}", key(i));
    }
    out.push('}');
    out
}

/// What one attack cost and how the others fared meanwhile.
struct Measured {
    status: u16,
    wall: Duration,
    cpu: Duration,
    worst_health: Duration,
    worst_ingest: Duration,
    probes: usize,
}

fn timed(request: impl FnOnce() -> u16) -> (u16, Duration) {
    let started = Instant::now();
    let status = request();
    (status, started.elapsed())
}

fn get(addr: SocketAddr, path: &str) -> u16 {
    raw_request(addr, "GET", path, 0, |_| Ok(()), Duration::from_secs(60))
        .map_or(0, |(status, _, _)| status)
}

fn post(addr: SocketAddr, path: &str, body: &str) -> u16 {
    raw_request(
        addr,
        "POST",
        path,
        body.len(),
        |s| std::io::Write::write_all(s, body.as_bytes()),
        Duration::from_secs(120),
    )
    .map_or(0, |(status, _, _)| status)
}

/// Posts `body` to `path` on a fresh server while another client probes
/// `/healthz` and ingests single events.
fn attack(name: &str, path: &'static str, body: String) -> Measured {
    assert!(body.len() <= LIMIT, "{name}: {} bytes", body.len());
    let server = ChildServer::start(json!({}));
    let addr = server.addr;
    // Warm up: the first request opens the store's connections.
    assert_eq!(
        post(
            addr,
            "/observation/ingest",
            r#"{"events":[{"event_type":"warm.up"}]}"#
        ),
        200
    );
    let cpu_before = server.cpu();
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let attacker = std::thread::spawn(move || {
        let answer = timed(|| post(addr, path, &body));
        finished.store(true, Ordering::SeqCst);
        answer
    });
    let mut worst_health = Duration::ZERO;
    let mut worst_ingest = Duration::ZERO;
    let mut probes = 0;
    while !done.load(Ordering::SeqCst) {
        let (status, took) = timed(|| get(addr, "/healthz"));
        assert_eq!(status, 200, "{name}: /healthz");
        worst_health = worst_health.max(took);
        let one = format!(r#"{{"events":[{{"event_id":"probe-{probes}","event_type":"probe"}}]}}"#);
        let (status, took) = timed(|| post(addr, "/observation/ingest", &one));
        assert_eq!(status, 200, "{name}: the probe's ingest");
        worst_ingest = worst_ingest.max(took);
        probes += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    let (status, wall) = attacker.join().expect("the attacking client");
    let measured = Measured {
        status,
        wall,
        cpu: server.cpu().saturating_sub(cpu_before),
        worst_health,
        worst_ingest,
        probes,
    };
    eprintln!(
        "{name}: HTTP {} in {:.0} ms ({:.0} ms of server CPU); meanwhile {} probes, slowest \
         /healthz {:.1} ms, slowest one-event ingest {:.1} ms",
        measured.status,
        measured.wall.as_secs_f64() * 1e3,
        measured.cpu.as_secs_f64() * 1e3,
        measured.probes,
        measured.worst_health.as_secs_f64() * 1e3,
        measured.worst_ingest.as_secs_f64() * 1e3,
    );
    measured
}

fn assert_bounded(name: &str, measured: &Measured) {
    assert!(
        measured.cpu < CPU_BOUND,
        "{name}: {:?} of server CPU",
        measured.cpu
    );
    assert!(
        measured.worst_health < LATENCY_BOUND,
        "{name}: /healthz took {:?}",
        measured.worst_health
    );
    assert!(
        measured.worst_ingest < LATENCY_BOUND,
        "{name}: a one-event ingest took {:?}",
        measured.worst_ingest
    );
}

#[test]
fn a_body_with_250000_unknown_fields_is_parsed_in_linear_time() {
    let fields = object(250_000, "1");
    let body = format!(
        r#"{{"events":[{{"event_type":"wide.event",{}}}]}}"#,
        &fields[1..fields.len() - 1]
    );
    let measured = attack("250,000 unknown fields", "/observation/ingest", body);
    assert_eq!(measured.status, 200);
    assert_bounded("250,000 unknown fields", &measured);
}

#[test]
fn a_declared_flow_with_200000_keys_is_stored_in_linear_time() {
    // 200,000 keys in the definition, in the diagrams and in the payload
    // itself, the flow's fields last.
    let diagrams = object(200_000, r#""g""#);
    let definition = object(200_000, "0");
    let payload = object(200_000, "0");
    let body = format!(
        r#"{{"events":[{{"event_type":"triggerflow.definition_declared","payload":{},"flow_name":"wide","definition":{definition},"mermaid":{diagrams}}}}}]}}"#,
        &payload[..payload.len() - 1]
    );
    let measured = attack(
        "a declared flow of 3 x 200,000 keys",
        "/observation/ingest",
        body,
    );
    assert_eq!(measured.status, 200);
    assert_bounded("a declared flow of 3 x 200,000 keys", &measured);
}

#[test]
fn a_registered_flow_with_200000_keys_is_parsed_in_linear_time() {
    let diagrams = object(200_000, r#""g""#);
    let definition = object(200_000, "0");
    let top = object(150_000, "0");
    let body = format!(
        r#"{},"flow_name":"wide","definition":{definition},"mermaid":{diagrams}}}"#,
        &top[..top.len() - 1]
    );
    let measured = attack(
        "a registered flow of 550,000 keys",
        "/observation/flows/register",
        body,
    );
    assert_eq!(measured.status, 200);
    assert_bounded("a registered flow of 550,000 keys", &measured);
}

#[test]
fn eight_mib_of_tiny_events_leave_the_others_answered() {
    let one = r#"{"event_type":"t"}"#;
    let count = (LIMIT - 20) / (one.len() + 1);
    let mut body = String::with_capacity(LIMIT);
    body.push_str(r#"{"events":["#);
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str(one);
    }
    body.push_str("]}");
    let name = format!("{count} tiny events");
    let measured = attack(&name, "/observation/ingest", body);
    assert_eq!(measured.status, 200);
    // Storing 400,000 events is work linear in them, but more than a
    // second of it: only the others' latency is bounded here.
    assert!(
        measured.worst_health < LATENCY_BOUND && measured.worst_ingest < LATENCY_BOUND,
        "{name}: /healthz {:?}, one-event ingest {:?}",
        measured.worst_health,
        measured.worst_ingest
    );
}

#[test]
fn a_body_with_250000_unknown_top_level_fields_and_a_wide_meta_is_linear() {
    let top = object(250_000, "0");
    let meta = object(200_000, "0");
    let body = format!(
        r#"{},"events":[{{"event_type":"wide","meta":{meta}}}]}}"#,
        &top[..top.len() - 1]
    );
    let measured = attack("a wide body and meta", "/observation/ingest", body);
    assert_eq!(measured.status, 200);
    assert_bounded("a wide body and meta", &measured);
}
