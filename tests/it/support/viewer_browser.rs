//! The viewer page in a real browser: an observation server on a free port
//! (with a fresh data directory), chromedriver on another, and a headless
//! Chromium session on the server's page, driven through WebDriver with
//! fantoccini. Everything stops on drop.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver`
//! (`bash scripts/chromium.sh` installs them; the test command runs it).
//!
//! Reads go through small JavaScript expressions; clicks and typing go
//! through WebDriver, as a user's would. Every wait is a bounded poll.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use event_center::{ObservationServer, ServerHandle};
use event_center_test_support::ports::free_port;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(10);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

/// An Agently ObservationEvent as a client posts it: `id`, `event_type`,
/// level INFO, in the run `run` (or none when `Value::Null`), stamped now
/// and later than any event made before (so the page's order is known).
pub fn event(id: &str, event_type: &str, run: Value) -> Value {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .expect("the closure always returns Some");
    json!({
        "event_id": id,
        "event_type": event_type,
        "source": "ViewerTest",
        "level": "INFO",
        "message": null,
        "payload": {"step": id},
        "run": run,
        "meta": {},
        "timestamp": now.max(previous + 1),
    })
}

/// A run context: `run_id` under `parent` (a top-level run when `None`).
pub fn run(run_id: &str, parent: Option<&str>) -> Value {
    json!({
        "run_id": run_id,
        "run_kind": "agent_execution",
        "parent_run_id": parent,
        "root_run_id": parent.unwrap_or(run_id),
    })
}

/// chromedriver on a free port, killed on drop.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Self {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: run `bash scripts/chromium.sh` (installs Debian's chromium and chromium-driver)"
            );
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Chromedriver { child, port };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited before answering ({status})");
            }
            if ureq::get(&format!("{}/status", driver.url()))
                .timeout(Duration::from_secs(1))
                .call()
                .is_ok()
            {
                return driver;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not answer within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The observation server and a headless Chromium session for its page.
pub struct Viewer {
    // Dropped in this order: the session, chromedriver, the server, its data.
    browser: Option<Client>,
    runtime: tokio::runtime::Runtime,
    _driver: Chromedriver,
    server: ServerHandle,
    api_key: Option<String>,
    data: tempfile::TempDir,
}

impl Viewer {
    /// Starts a server and opens its page; returns once the page's live
    /// stream is connected.
    pub fn open() -> Self {
        let viewer = Self::start(None);
        viewer.open_page(&viewer.server_url());
        viewer.wait_for_connection("live");
        viewer
    }

    /// Starts a server (on a free port, with a fresh data directory, asking
    /// for `api_key` when given) and a browser session, with no page open.
    pub fn start(api_key: Option<&str>) -> Self {
        let data = tempfile::tempdir().expect("a temporary data directory");
        let mut builder = ObservationServer::builder()
            .with_port(0)
            .with_data_dir(data.path());
        if let Some(key) = api_key {
            builder = builder.with_api_key(key);
        }
        let server = builder
            .build()
            .expect("build the observation server")
            .start()
            .expect("start the observation server");
        let driver = Chromedriver::start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let chrome = json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,900"],
        });
        let mut client = ClientBuilder::new(HttpConnector::new());
        client.capabilities(serde_json::Map::from_iter([(
            "goog:chromeOptions".to_owned(),
            chrome,
        )]));
        let browser = runtime
            .block_on(client.connect(&driver.url()))
            .expect("open a headless Chromium session");
        Viewer {
            browser: Some(browser),
            runtime,
            _driver: driver,
            server,
            api_key: api_key.map(str::to_owned),
            data,
        }
    }

    /// Opens `url` (the server's page, with a query string or through a
    /// [`StreamGate`]); does not wait for the stream.
    pub fn open_page(&self, url: &str) {
        self.runtime
            .block_on(self.browser().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    fn browser(&self) -> &Client {
        self.browser.as_ref().expect("the session is open")
    }

    /// The server's base URL (its page is at `/`).
    pub fn server_url(&self) -> String {
        self.server.url()
    }

    /// POSTs `events` to the server's ingest endpoint (with the API key).
    pub fn post(&self, events: Value) {
        let mut request =
            ureq::post(&format!("{}/observation/ingest", self.server.url())).timeout(WAIT);
        if let Some(key) = &self.api_key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        let response = request
            .send_json(json!({"app_id": "viewer-test", "events": events}))
            .expect("POST /observation/ingest");
        assert_eq!(response.status(), 200);
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub fn js(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.browser().execute(script, vec![]))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until `ready` accepts its value (at most [`WAIT`]);
    /// returns that value, or panics saying what did not happen and the
    /// last value seen.
    pub fn wait_for(&self, what: &str, script: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script);
            if ready(&value) {
                return value;
            }
            assert!(
                started.elapsed() < WAIT,
                "{what}: not within {WAIT:?}; last seen: {value}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `#connection` is in `state` (live, polling or error).
    pub fn wait_for_connection(&self, state: &str) {
        self.wait_for(
            &format!("the connection badge says {state}"),
            "return document.querySelector('#connection').dataset.state",
            |v| v == state,
        );
    }

    /// Waits until the event list shows exactly `ids`, top to bottom.
    pub fn wait_for_event_ids(&self, ids: &[&str]) {
        self.wait_for(
            &format!("the event list shows {ids:?}"),
            "return [...document.querySelectorAll('#event-list [data-event-id]')].map(e => e.dataset.eventId)",
            |v| strings(v) == ids,
        );
    }

    /// Clicks the element `css` selects, retrying while it is missing or
    /// was replaced (the page redraws its run tree) for at most [`WAIT`].
    pub fn click(&self, css: &str) {
        let started = Instant::now();
        self.runtime.block_on(async {
            loop {
                let clicked = match self.browser().find(Locator::Css(css)).await {
                    Ok(element) => element.click().await,
                    Err(e) => Err(e),
                };
                match clicked {
                    Ok(()) => return,
                    Err(e) if started.elapsed() > WAIT => panic!("click {css}: {e}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
    }

    /// Replaces the text of the input `css` with `text`, typed key by key.
    pub fn type_text(&self, css: &str, text: &str) {
        self.runtime.block_on(async {
            let input = self
                .browser()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"));
            input.clear().await.expect("clear the input");
            input.send_keys(text).await.expect("type into the input");
        })
    }

    /// Chooses the option `value` of the select `css`.
    pub fn select(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            self.browser()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no element {css}: {e}"))
                .select_by_value(value)
                .await
                .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"))
        })
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        if let Some(browser) = self.browser.take() {
            let _ = self.runtime.block_on(browser.close());
        }
    }
}

/// A JSON array of strings as a `Vec` (anything else: empty).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A loopback HTTP forwarder in front of the server that can refuse the
/// live stream (503) while passing every other GET through, as a proxy
/// without server-sent events would. GET requests only, one per connection.
pub struct StreamGate {
    port: u16,
    refuse: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl StreamGate {
    /// Starts forwarding to `upstream` (`http://host:port`), refusing the
    /// stream from the start.
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// URL")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the gate");
        let port = listener.local_addr().expect("the gate's address").port();
        let refuse = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let (refusing, stopping) = (refuse.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let (upstream, refusing) = (upstream.clone(), refusing.clone());
                std::thread::spawn(move || {
                    let _ = forward(client, &upstream, refusing.load(Ordering::SeqCst));
                });
            }
        });
        StreamGate { port, refuse, stop }
    }

    /// The gate's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Refuses (`true`) or passes (`false`) new stream requests.
    pub fn refuse_stream(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }
}

impl Drop for StreamGate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Forwards one GET request from `client` to `upstream` and the answer
/// back, or answers 503 to a stream request when `refuse_stream`.
fn forward(mut client: TcpStream, upstream: &str, refuse_stream: bool) -> std::io::Result<()> {
    client.set_read_timeout(Some(WAIT))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push_str(&line);
        }
    }
    let path = head.split_whitespace().nth(1).unwrap_or("");
    if refuse_stream && path.starts_with("/observation/stream") {
        return client.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(head.as_bytes())?;
    server.write_all(b"Connection: close\r\n\r\n")?;
    std::io::copy(&mut server, &mut client)?;
    Ok(())
}

impl Viewer {
    /// The server's data directory (to put rows in its store directly).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    /// POSTs a JSON text body to the server's ingest endpoint (with the
    /// API key); it must be accepted whole.
    pub fn post_text(&self, body: &str) {
        let mut request = ureq::post(&format!("{}/observation/ingest", self.server.url()))
            .timeout(WAIT)
            .set("Content-Type", "application/json");
        if let Some(key) = &self.api_key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        let response = request.send_string(body).expect("POST /observation/ingest");
        assert_eq!(response.status(), 200);
    }
}
