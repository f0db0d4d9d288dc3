//! A real Agently DevTools server (`agently-devtools` 0.2.0 from PyPI) for
//! the devtools-client tests and bench: started on 127.0.0.1 with a free
//! port and HOME in a temporary directory, stopped on drop.
//!
//! The virtualenv comes from `bash scripts/devtools_server.sh install`
//! (the test command runs it; a missing virtualenv is installed here too,
//! and a failed install fails the test with the reason).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ports::free_port;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/devtools_server.sh");

/// How long a server may take to answer after it is started (Python imports
/// on a loaded machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Makes sure the virtualenv exists; panics with the installer's output if
/// it cannot be made.
pub fn ensure_installed() {
    let output = Command::new("bash")
        .arg(SCRIPT)
        .arg("install")
        .output()
        .expect("run bash scripts/devtools_server.sh install");
    assert!(
        output.status.success(),
        "the Agently DevTools server is not installed and installing it failed \
         (run `bash scripts/devtools_server.sh install`, which needs python3 -m venv and PyPI):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// A running `agently-devtools start`.
pub struct DevtoolsServer {
    child: Child,
    log_path: PathBuf,
    stdin: Option<ChildStdin>,
    port: u16,
    api_key: Option<String>,
    agent: ureq::Agent,
}

impl DevtoolsServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// Starts a server on `port`, requiring `api_key` when given, and waits
    /// until it answers.
    pub fn start_on(port: u16, api_key: Option<&str>) -> Self {
        ensure_installed();
        let log_path = std::env::temp_dir().join(format!("devtools-server-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the server's log file");
        let mut command = Command::new("bash");
        command
            .arg(SCRIPT)
            .arg("serve")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("DEVTOOLS_STOP_ON_EOF", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Some(key) = api_key {
            command.args(["--api-key", key]);
        }
        let mut child = command
            .spawn()
            .expect("start scripts/devtools_server.sh serve");
        let stdin = child.stdin.take();
        let mut server = DevtoolsServer {
            child,
            log_path,
            stdin,
            port,
            api_key: api_key.map(str::to_owned),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .build(),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                let out = std::fs::read_to_string(&self.log_path).unwrap_or_default();
                panic!("the DevTools server exited before answering ({status}):\n{out}");
            }
            if self.try_get("/observation/runs").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the DevTools server on port {} did not answer within {START_TIMEOUT:?}",
            self.port
        );
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn try_get(&self, path: &str) -> Result<Value, String> {
        let mut request = self.agent.get(&format!("{}{path}", self.url()));
        if let Some(key) = &self.api_key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        let response = request.call().map_err(|e| e.to_string())?;
        let text = response.into_string().map_err(|e| e.to_string())?;
        let body: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok(body)
    }

    /// `GET path` through the server's query API; returns the answer's
    /// `data`.
    pub fn get(&self, path: &str) -> Value {
        let body = self
            .try_get(path)
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
        body.get("data")
            .cloned()
            .unwrap_or_else(|| panic!("GET {path}: no data in {body}"))
    }

    /// Every event of the run `run_id` and its descendants.
    pub fn run_events(&self, run_id: &str) -> Vec<Value> {
        match self.get(&format!(
            "/observation/runs/{run_id}/events?include_descendants=true&limit=100000"
        )) {
            Value::Array(events) => events,
            other => panic!("run events are not a list: {other}"),
        }
    }
}

impl Drop for DevtoolsServer {
    fn drop(&mut self) {
        // Closing stdin stops the server; then the script exits.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_file(&self.log_path);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// Where the virtualenv is (for messages).
pub fn venv_dir() -> PathBuf {
    std::env::var_os("DEVTOOLS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/devtools-venv")
        })
}

/// A loopback stand-in for the ingest endpoint: answers each POST with the
/// status `respond` picks for its body, and keeps the bodies it accepted
/// (status 200).
pub struct StubServer {
    port: u16,
    accepted: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StubServer {
    pub fn start(respond: fn(&Value) -> u16) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stub");
        let port = listener.local_addr().expect("stub addr").port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (bodies, stopping) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let bodies = bodies.clone();
                std::thread::spawn(move || serve_connection(stream, respond, &bodies));
            }
        });
        StubServer {
            port,
            accepted,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bodies answered with 200, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap().clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(
    mut stream: std::net::TcpStream,
    respond: fn(&Value) -> u16,
    bodies: &std::sync::Mutex<Vec<Value>>,
) {
    use std::io::{BufRead, BufReader, Read, Write};

    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        // Request line and headers.
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if first {
                first = false;
                continue;
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let status = respond(&value);
        let answer = if status == 200 {
            let n = value["events"].as_array().map_or(0, Vec::len);
            bodies.lock().unwrap().push(value);
            format!(r#"{{"status":200,"data":{{"ingested":{n}}},"msg":null}}"#)
        } else {
            r#"{"detail":"refused by the stub"}"#.to_owned()
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
