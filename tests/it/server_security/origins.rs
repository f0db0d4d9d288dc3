//! Other web pages and other host names: a page served from another
//! loopback port tries to write to and read from the server (a `text/plain`
//! ingest, a JSON ingest, a query, a websocket) in headless Chromium; raw
//! requests carry foreign `Origin`, `Sec-Fetch-Site` and `Host` headers
//! (DNS rebinding) and bodies of other content types. Clients that are not
//! browsers (curl here; the bridge, forwarder, tail and viewer in their own
//! tests) keep working.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::browser::Viewer;
use super::server::{agent, answer, TestServer};

/// A raw HTTP/1.1 exchange: `head` (request line and headers, without the
/// blank line; `Connection: close` is added) and `body`; returns the status
/// and the whole answer. Bounded by a 10 s timeout.
fn raw(addr: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let length = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let request = format!("{head}\r\n{length}Connection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    (status_of(&reply), reply)
}

/// Sends a request head and returns the status line's code only (for
/// websocket handshakes, which stay open).
fn status_only(addr: SocketAddr, head: &str) -> u16 {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(format!("{head}\r\n\r\n").as_bytes())
        .expect("send");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        line.push(byte[0]);
    }
    status_of(&String::from_utf8_lossy(&line))
}

fn status_of(reply: &str) -> u16 {
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn ws_head(path: &str, host: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13{extra}"
    )
}

/// The `event_id`s stored, read as a non-browser client.
fn stored_ids(url: &str) -> Vec<String> {
    let (status, body) = answer(
        agent()
            .get(&format!("{url}/observation/events/recent?limit=1000"))
            .call(),
    );
    assert_eq!(status, 200, "{body}");
    super::server::ids(&body["data"])
}

#[test]
fn requests_from_another_origin_are_refused_on_every_route_and_the_websocket() {
    let server = TestServer::with(|b| b.with_allowed_origin("http://127.0.0.1:1"));
    server.ingest(json!([{"event_id": "kept", "event_type": "agent.started"}]));
    let addr = server.handle.local_addr();
    let host = addr.to_string();
    let gets = [
        "/",
        "/healthz",
        "/observation/runs",
        "/observation/events/recent",
        "/observation/events/kept/raw",
        "/observation/stream",
        "/observation/flows/resolve?flow_name=f",
        "/nowhere",
    ];
    let foreign = [
        "\r\nOrigin: http://evil.example",
        "\r\nOrigin: null",
        "\r\nOrigin: http://127.0.0.1:9",
        "\r\nSec-Fetch-Site: cross-site",
        "\r\nSec-Fetch-Site: same-site",
        "\r\nOrigin: http://evil.example\r\nSec-Fetch-Site: same-origin",
    ];
    for extra in foreign {
        for path in gets {
            let (status, reply) = raw(
                addr,
                &format!("GET {path} HTTP/1.1\r\nHost: {host}{extra}"),
                "",
            );
            assert_eq!(status, 403, "GET {path} with {extra:?}: {reply}");
            assert!(reply.contains("\"detail\""), "{reply}");
            assert!(!reply.contains("kept"), "nothing read: {reply}");
        }
        let body = json!({"events": [{"event_id": "foreign", "event_type": "x.y"}]}).to_string();
        for path in ["/observation/ingest", "/observation/flows/register"] {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json{extra}"
            );
            let (status, reply) = raw(addr, &head, &body);
            assert_eq!(status, 403, "POST {path} with {extra:?}: {reply}");
        }
        let ws = ws_head("/observation/ws", &host, extra);
        assert_eq!(status_only(addr, &ws), 403, "websocket with {extra:?}");
    }
    // The server's own pages, navigations typed in, and clients that are
    // not browsers pass.
    let own = [
        String::new(),
        format!("\r\nOrigin: http://{host}"),
        "\r\nSec-Fetch-Site: same-origin".to_owned(),
        "\r\nSec-Fetch-Site: none".to_owned(),
        format!("\r\nOrigin: http://{host}\r\nSec-Fetch-Site: same-origin"),
    ];
    for extra in &own {
        let head = format!("GET /observation/events/recent HTTP/1.1\r\nHost: {host}{extra}");
        let (status, reply) = raw(addr, &head, "");
        assert_eq!(status, 200, "with {extra:?}: {reply}");
        assert!(reply.contains("kept"), "{reply}");
        assert_eq!(
            status_only(addr, &ws_head("/observation/ws", &host, extra)),
            101
        );
    }
    // A link followed to the viewer page from elsewhere opens it.
    let navigation = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document"
    );
    assert_eq!(raw(addr, &navigation, "").0, 200);
    // An allowed origin gets CORS answers, preflights included.
    let allowed = "\r\nOrigin: http://127.0.0.1:1\r\nSec-Fetch-Site: same-site";
    let (status, reply) = raw(
        addr,
        &format!("GET /observation/events/recent HTTP/1.1\r\nHost: {host}{allowed}"),
        "",
    );
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: http://127.0.0.1:1"),
        "{reply}"
    );
    let preflight = format!(
        "OPTIONS /observation/ingest HTTP/1.1\r\nHost: {host}{allowed}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type"
    );
    let (status, reply) = raw(addr, &preflight, "");
    assert_eq!(status, 204, "{reply}");
    let lower = reply.to_ascii_lowercase();
    assert!(
        lower.contains("access-control-allow-methods: get, post"),
        "{reply}"
    );
    assert!(lower.contains("content-type"), "{reply}");
    let refused = preflight.replace("127.0.0.1:1", "evil.example");
    assert_eq!(raw(addr, &refused, "").0, 403);
    assert_eq!(
        stored_ids(&server.url()),
        ["kept"],
        "nothing foreign stored"
    );
}

#[test]
fn the_host_header_must_name_this_server_or_an_allowed_host() {
    let server = TestServer::with(|b| b.with_allowed_host("observer.example"));
    let addr = server.handle.local_addr();
    let port = addr.port();
    let healthz = |host: &str| raw(addr, &format!("GET /healthz HTTP/1.1\r\nHost: {host}"), "");
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("10.1.2.3:{port}"),
        "bad host".to_owned(),
        "[::1".to_owned(),
    ] {
        let (status, reply) = healthz(&host);
        assert_eq!(status, 421, "Host: {host}: {reply}");
        assert!(reply.contains("--allow-host"), "{reply}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("viewer.localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_owned(),
        format!("[::1]:{port}"),
        "[::1]".to_owned(),
        format!("observer.example:{port}"),
        "Observer.Example".to_owned(),
    ] {
        let (status, reply) = healthz(&host);
        assert_eq!(status, 200, "Host: {host}: {reply}");
    }
    // An absolute request target names the host too.
    let (status, _) = raw(
        addr,
        &format!("GET http://evil.example:{port}/healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        "",
    );
    assert_eq!(status, 421);

    // Before the API key, before the body: nothing is stored.
    let keyed = TestServer::with_key("k");
    let addr = keyed.handle.local_addr();
    let body = json!({"events": [{"event_id": "rebound", "event_type": "x.y"}]}).to_string();
    let head = format!(
        "POST /observation/ingest HTTP/1.1\r\nHost: evil.example:{}\r\n\
         Content-Type: application/json\r\nAuthorization: Bearer k",
        addr.port()
    );
    assert_eq!(raw(addr, &head, &body).0, 421);
    let (status, events) = keyed.get("/observation/events/recent");
    assert_eq!(status, 200);
    assert_eq!(events["data"], json!([]));
    let websocket = ws_head("/observation/ws?api_key=k", "evil.example", "");
    assert_eq!(status_only(addr, &websocket), 421);
}

#[test]
fn post_bodies_must_be_declared_as_json() {
    let server = TestServer::start();
    let url = server.url();
    let body = |id: &str| json!({"events": [{"event_id": id, "event_type": "x.y"}]}).to_string();
    let post = |path: &str, content_type: Option<&str>, body: &str| {
        let mut request = agent().post(&format!("{url}{path}"));
        if let Some(content_type) = content_type {
            request = request.set("Content-Type", content_type);
        }
        answer(request.send_string(body))
    };
    for (content_type, id) in [
        (Some("text/plain"), "plain"),
        (Some("text/plain;charset=UTF-8"), "plain-utf8"),
        (Some("application/x-www-form-urlencoded"), "form"),
        (Some("multipart/form-data; boundary=x"), "multipart"),
        (Some("application/jsonp"), "jsonp"),
        (Some(""), "blank"),
        (None, "none"),
    ] {
        let (status, reply) = post("/observation/ingest", content_type, &body(id));
        assert_eq!(status, 415, "{content_type:?}: {reply}");
        let detail = reply["detail"].as_str().expect("a detail");
        assert!(
            detail.contains("Content-Type: application/json"),
            "names what to send: {detail}"
        );
    }
    let flow = json!({"flow_name": "f", "definition": {}}).to_string();
    let (status, reply) = post("/observation/flows/register", Some("text/plain"), &flow);
    assert_eq!(status, 415, "{reply}");
    assert_eq!(stored_ids(&url), Vec::<String>::new(), "none stored");

    for (content_type, id) in [
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json-utf8"),
        ("Application/JSON", "json-upper"),
    ] {
        let (status, reply) = post("/observation/ingest", Some(content_type), &body(id));
        assert_eq!(status, 200, "{content_type}: {reply}");
    }
    // Refused before the API key is looked at.
    let keyed = TestServer::with_key("k");
    let (status, reply) = answer(
        agent()
            .post(&format!("{}/observation/ingest", keyed.url()))
            .set("Content-Type", "text/plain")
            .send_string(&body("unkeyed")),
    );
    assert_eq!(status, 415, "{reply}");
}

/// Runs `curl` with `args`; returns the HTTP status (`-w`) and the body.
fn curl(args: &[&str]) -> (u16, Value) {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs (scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("the status line");
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (code.trim().parse().expect("a status"), body)
}

#[test]
fn curl_ingests_and_reads_as_before() {
    let server = TestServer::start();
    let url = server.url();
    let ingest = format!("{url}/observation/ingest");
    let event =
        json!({"events": [{"event_id": "by-curl", "event_type": "tool.called"}]}).to_string();
    let (status, body) = curl(&[
        "-H",
        "Content-Type: application/json",
        "--data",
        &event,
        &ingest,
    ]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["ingested"], 1);
    let (status, body) = curl(&[&format!("{url}/observation/events/recent")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["event_id"], "by-curl");
    let (status, body) = curl(&[&format!(
        "http://localhost:{}/healthz",
        server.handle.local_addr().port()
    )]);
    assert_eq!(status, 200, "{body}");
    // `--data` alone says form-urlencoded: refused, saying what to send.
    let (status, body) = curl(&["--data", &event, &ingest]);
    assert_eq!(status, 415, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("application/json")),
        "{body}"
    );
    let (status, _) = curl(&["-H", "Host: evil.example", &format!("{url}/healthz")]);
    assert_eq!(status, 421);
}

/// A web page on its own loopback port (another origin than the server's,
/// same site): it tries to write to and read from the server given in its
/// `?target=` and records what it got in `window.attack`.
struct ElsewherePage {
    port: u16,
    stop: Arc<AtomicBool>,
}

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<script>
const target = new URLSearchParams(location.search).get('target');
const batch = (id) => JSON.stringify({events: [{event_id: id, event_type: 'page.wrote', source: 'Elsewhere', payload: {}}]});
window.attack = {done: false, ws: {state: 'connecting', messages: []}};
async function attempt(name, request) {
  try {
    const response = await request();
    let body = null;
    try { body = await response.text(); } catch (e) {}
    window.attack[name] = {status: response.status, type: response.type, body};
  } catch (e) {
    window.attack[name] = {error: String(e)};
  }
}
(async () => {
  await attempt('text_plain', () => fetch(target + '/observation/ingest',
    {method: 'POST', headers: {'Content-Type': 'text/plain'}, body: batch('page-text')}));
  await attempt('no_cors', () => fetch(target + '/observation/ingest',
    {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: batch('page-no-cors')}));
  await attempt('json', () => fetch(target + '/observation/ingest',
    {method: 'POST', headers: {'Content-Type': 'application/json'}, body: batch('page-json')}));
  await attempt('recent', () => fetch(target + '/observation/events/recent'));
  await attempt('recent_no_cors', () => fetch(target + '/observation/events/recent', {mode: 'no-cors'}));
  const ws = new WebSocket(target.replace('http://', 'ws://') + '/observation/ws');
  ws.onopen = () => { window.attack.ws.state = 'open'; };
  ws.onmessage = (m) => { window.attack.ws.messages.push(String(m.data)); };
  ws.onerror = () => { window.attack.ws.state = 'error'; };
  ws.onclose = () => { if (window.attack.ws.state !== 'error') window.attack.ws.state = 'closed'; };
  window.attack.done = true;
})();
</script>"#;

impl ElsewherePage {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the page's port");
        let port = listener.local_addr().expect("its address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut client) = client else { continue };
                let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let _ = client.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
                        PAGE.len()
                    )
                    .as_bytes(),
                );
            }
        });
        ElsewherePage { port, stop }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Opens the page aimed at `target` and waits until it has tried
    /// everything and its websocket has opened or failed.
    fn attack(&self, viewer: &Viewer, target: &str) -> Value {
        viewer.open_page(&format!("{}/?target={target}", self.origin()));
        viewer.wait_for(
            "the page tried every request",
            "return window.attack && window.attack.done && window.attack.ws.state !== 'connecting'",
            |done| done == true,
        );
        viewer.js("return window.attack")
    }
}

impl Drop for ElsewherePage {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Waits `for_how_long` for the page's websocket to receive something.
fn ws_messages(viewer: &Viewer, for_how_long: Duration, until: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let messages = viewer.js("return window.attack.ws.messages");
        if until(&messages) || started.elapsed() > for_how_long {
            return messages;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_page_on_another_loopback_port_can_neither_write_to_nor_read_from_the_server() {
    let viewer = Viewer::start(None);
    let target = viewer.server_url();
    viewer.post(json!([{"event_id": "before", "event_type": "agent.started",
                         "payload": {"note": "not for other pages"}}]));
    let page = ElsewherePage::start();
    let attack = page.attack(&viewer, &target);

    for name in ["text_plain", "json", "recent"] {
        assert!(
            attack[name]["error"].is_string(),
            "{name}: the page read an answer: {}",
            attack[name]
        );
    }
    for name in ["no_cors", "recent_no_cors"] {
        assert_eq!(
            attack[name]["status"], 0,
            "{name}: opaque: {}",
            attack[name]
        );
        assert_eq!(attack[name]["body"], "", "{name}: {}", attack[name]);
    }
    // Whatever the page sees of the stream, an event stored now does not
    // reach it.
    viewer.post(json!([{"event_id": "after", "event_type": "agent.started",
                         "payload": {"note": "not for other pages either"}}]));
    let messages = ws_messages(&viewer, Duration::from_secs(2), |m| m != &json!([]));
    assert_eq!(messages, json!([]), "the websocket received events");
    assert_ne!(attack["ws"]["state"], "open", "{attack}");
    assert_eq!(
        stored_ids(&target),
        ["after", "before"],
        "nothing from the page"
    );
}

#[test]
fn a_page_of_an_allowed_origin_writes_and_reads_with_cors() {
    let viewer = Viewer::start(None);
    let page = ElsewherePage::start();
    let server = TestServer::with(|b| b.with_allowed_origin(page.origin()));
    let target = server.url();
    server.ingest(json!([{"event_id": "before", "event_type": "agent.started"}]));
    let attack = page.attack(&viewer, &target);

    assert_eq!(attack["text_plain"]["status"], 415, "{attack}");
    assert!(
        attack["text_plain"]["body"]
            .as_str()
            .is_some_and(|body| body.contains("application/json")),
        "{attack}"
    );
    assert_eq!(attack["json"]["status"], 200, "{attack}");
    assert_eq!(attack["recent"]["status"], 200, "{attack}");
    assert!(
        attack["recent"]["body"]
            .as_str()
            .is_some_and(|body| body.contains("\"before\"")),
        "{attack}"
    );
    assert_eq!(attack["ws"]["state"], "open", "{attack}");
    server.ingest(json!([{"event_id": "for-the-page", "event_type": "agent.started"}]));
    let messages = ws_messages(&viewer, Duration::from_secs(10), |m| {
        m.to_string().contains("for-the-page")
    });
    assert!(messages.to_string().contains("for-the-page"), "{messages}");
    let mut stored = stored_ids(&target);
    stored.sort();
    assert_eq!(stored, ["before", "for-the-page", "page-json"]);
}
