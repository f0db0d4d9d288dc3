//! An observation server for tests: a free port on 127.0.0.1, its own data
//! directory (removed on drop), and JSON requests that return the status and
//! the body whatever the status. The server stops on drop.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use event_center::{ObservationServer, ObservationServerBuilder, ServerHandle};
use serde_json::{json, Value};

/// A running server and its data directory.
pub struct TestServer {
    pub handle: ServerHandle,
    pub dir: tempfile::TempDir,
    key: Option<String>,
    agent: ureq::Agent,
}

impl TestServer {
    /// A server with the default settings.
    pub fn start() -> Self {
        Self::with(|builder| builder)
    }

    /// A server with extra settings (port and data directory are set here).
    pub fn with(
        configure: impl FnOnce(ObservationServerBuilder) -> ObservationServerBuilder,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let handle = start_on(dir.path(), configure);
        TestServer {
            handle,
            dir,
            key: None,
            agent: agent(),
        }
    }

    /// A server requiring `key`; [`get`](Self::get) and
    /// [`post`](Self::post) send it as a bearer token.
    pub fn with_key(key: &str) -> Self {
        let mut server = Self::with(|builder| builder.with_api_key(key));
        server.key = Some(key.to_owned());
        server
    }

    pub fn url(&self) -> String {
        self.handle.url()
    }

    /// `GET path` → (status, body).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let mut request = self.agent.get(&format!("{}{path}", self.url()));
        if let Some(key) = &self.key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        answer(request.call())
    }

    /// `POST path` with a JSON text body → (status, body).
    pub fn post_text(&self, path: &str, body: &str) -> (u16, Value) {
        let mut request = self
            .agent
            .post(&format!("{}{path}", self.url()))
            .set("Content-Type", "application/json");
        if let Some(key) = &self.key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        answer(request.send_string(body))
    }

    /// `POST /observation/ingest` with `body` → (status, body).
    pub fn post(&self, body: &Value) -> (u16, Value) {
        self.post_text("/observation/ingest", &body.to_string())
    }

    /// Ingests `events` (a JSON list) and returns how many were stored.
    pub fn ingest(&self, events: Value) -> u64 {
        let (status, body) = self.post(&json!({ "events": events }));
        assert_eq!(status, 200, "ingest answered {body}");
        body["data"]["ingested"]
            .as_u64()
            .expect("an ingested count")
    }

    /// The `data` of a `GET` that must succeed.
    pub fn data(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path} answered {body}");
        assert_eq!(body["status"], 200, "GET {path}: {body}");
        body["data"].clone()
    }
}

/// Starts a server on a free port with `dir` as its data directory.
pub fn start_on(
    dir: &Path,
    configure: impl FnOnce(ObservationServerBuilder) -> ObservationServerBuilder,
) -> ServerHandle {
    let builder = ObservationServer::builder().with_port(0).with_data_dir(dir);
    configure(builder)
        .build()
        .expect("valid settings")
        .start()
        .expect("the server starts")
}

/// An HTTP client with a timeout, so a hung server fails the test.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// The status and JSON body of a response, error statuses included.
pub fn answer(result: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(other) => panic!("the request failed: {other}"),
    };
    let status = response.status();
    let text = response.into_string().expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

/// A run context as Agently serializes it: `run_id` of `kind` under
/// `parent` in the tree rooted at `root`.
pub fn run(run_id: &str, kind: &str, parent: Option<&str>, root: &str) -> Value {
    json!({
        "run_id": run_id,
        "run_kind": kind,
        "root_run_id": root,
        "parent_run_id": parent,
        "agent_id": null,
        "agent_name": "tester",
        "session_id": null,
        "response_id": null,
        "execution_id": null,
        "meta": {},
    })
}

/// An event as Agently's bridge posts it, with a fixed id and timestamp.
pub fn event(event_id: &str, event_type: &str, run: Value, timestamp: i64) -> Value {
    json!({
        "event_id": event_id,
        "event_type": event_type,
        "source": "Tester",
        "level": "INFO",
        "message": null,
        "payload": {"step": event_id},
        "error": null,
        "run": run,
        "meta": {},
        "timestamp": timestamp,
    })
}

/// The `event_id`s of a list of events.
pub fn ids(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("a list of events")
        .iter()
        .map(|e| e["event_id"].as_str().expect("an event_id").to_owned())
        .collect()
}

/// The `run_id`s of a list of runs.
pub fn run_ids(runs: &Value) -> Vec<String> {
    runs.as_array()
        .expect("a list of runs")
        .iter()
        .map(|r| r["run_id"].as_str().expect("a run_id").to_owned())
        .collect()
}
