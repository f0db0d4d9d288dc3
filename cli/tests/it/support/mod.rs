//! Runs the `event-center` binary for the tests: its output read line by
//! line on threads, every wait bounded, the process killed on drop; and the
//! HTTP requests the tests make to a server.

// Also included by path by the producer test (its own binary), which
// uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_event-center");
/// How long any one wait may take.
pub const WAIT: Duration = Duration::from_secs(60);

/// A running `event-center`, killed on drop.
pub struct Process {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every standard output line read so far.
    pub out: Vec<String>,
    /// Every standard error line read so far.
    pub err: Vec<String>,
}

/// Sends each line of `from` to the returned channel, on a thread.
fn lines(from: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Process {
    /// Starts `event-center ARGS` with piped output and none of the tool's
    /// environment variables.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("EVENT_CENTER_API_KEY")
            .env_remove("EVENT_CENTER_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the event-center binary");
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        Process {
            child,
            stdout,
            stderr,
            out: Vec::new(),
            err: Vec::new(),
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a standard output line `matches` accepts, and returns it.
    pub fn wait_stdout(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        self.wait_line(true, what, matches)
    }

    /// Waits for a standard error line `matches` accepts, and returns it.
    pub fn wait_stderr(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        self.wait_line(false, what, matches)
    }

    fn wait_line(&mut self, stdout: bool, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            self.drain_stderr_if(stdout);
            let (channel, seen) = if stdout {
                (&self.stdout, &mut self.out)
            } else {
                (&self.stderr, &mut self.err)
            };
            let left = deadline.saturating_duration_since(Instant::now());
            match channel.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(line) => {
                    seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => panic!("no line {what}:\n{}", self.transcript()),
            }
        }
    }

    /// Keeps standard error read while waiting on standard output (a
    /// process blocked on a full pipe would never write the awaited line).
    fn drain_stderr_if(&mut self, waiting_on_stdout: bool) {
        if waiting_on_stdout {
            self.err.extend(self.stderr.try_iter());
        } else {
            self.out.extend(self.stdout.try_iter());
        }
    }

    /// Both outputs so far, for failure messages.
    pub fn transcript(&mut self) -> String {
        self.out.extend(self.stdout.try_iter());
        self.err.extend(self.stderr.try_iter());
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.out.join("\n"),
            self.err.join("\n")
        )
    }

    /// Sends SIGTERM, as a service manager stopping it would.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit and reads the rest of its output.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the process") {
                break status;
            }
            if Instant::now() > deadline {
                panic!("the process did not exit in time:\n{}", self.transcript());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for (channel, seen) in [(&self.stdout, &mut self.out), (&self.stderr, &mut self.err)] {
            while let Ok(line) = channel.recv_timeout(Duration::from_secs(5)) {
                seen.push(line);
            }
        }
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a finished command printed.
pub struct Finished {
    pub status: ExitStatus,
    pub out: Vec<String>,
    pub err: Vec<String>,
}

/// Runs `event-center ARGS` to its end (bounded).
pub fn run(args: &[&str]) -> Finished {
    let mut process = Process::start(args);
    let status = process.wait_exit();
    Finished {
        status,
        out: std::mem::take(&mut process.out),
        err: std::mem::take(&mut process.err),
    }
}

/// Starts `event-center serve` on a free port with its store in `dir` and
/// the `extra` flags; returns it and its base URL once it listens.
pub fn serve(dir: &Path, extra: &[&str]) -> (Process, String) {
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    let mut args = vec!["serve", "--port", "0", "--data-dir", dir];
    args.extend_from_slice(extra);
    let mut process = Process::start(&args);
    let line = process.wait_stdout("announcing the server's URL", |l| {
        l.starts_with("event-center: serving on ")
    });
    let url = line["event-center: serving on ".len()..].to_owned();
    (process, url)
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// The status and JSON body of a response, whatever the status.
fn answer(result: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    };
    let status = response.status();
    let text = response.into_string().expect("read the body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `GET url` with an optional bearer key.
pub fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = agent().get(url);
    if let Some(key) = key {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    answer(request.call())
}

/// `POST url` with a JSON body and an optional bearer key.
pub fn post(url: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = agent().post(url).set("Content-Type", "application/json");
    if let Some(key) = key {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    answer(request.send_string(&body.to_string()))
}

/// The `data` of a successful `GET`.
pub fn data(url: &str) -> Value {
    let (status, body) = get(url, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    body["data"].clone()
}

/// Event `i` of a test file as a JSONL line: a known id, a run shared with
/// every third event, a payload naming `i`.
pub fn event_line(i: u64) -> String {
    let event_type = ["agent.step", "model.completed", "tool.completed"][(i % 3) as usize];
    serde_json::json!({
        "event_id": format!("{:032x}", i + 1),
        "event_type": event_type,
        "source": "Agent",
        "level": "INFO",
        "timestamp": 1_700_000_000_000u64 + i,
        "payload": {"i": i},
        "run": {"run_id": format!("run-{}", i % 3), "run_kind": "agent_execution"},
    })
    .to_string()
}

/// How many events the server holds for `run_id` (0 before the run exists).
pub fn run_event_count(url: &str, run_id: &str) -> u64 {
    match get(&format!("{url}/observation/runs/{run_id}"), None) {
        (200, body) => body["data"]["event_count"]
            .as_u64()
            .expect("an event count"),
        (404, _) => 0,
        (status, body) => panic!("GET run {run_id}: {status} {body}"),
    }
}

/// Polls `count` until it reaches `target` (bounded); returns the last
/// value.
pub fn wait_for_count(target: u64, count: impl Fn() -> u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = count();
        if now >= target || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The numbers of a stopped `serve --nats`'s summary line:
/// (events taken, new, already stored).
pub fn nats_summary(out: &[String]) -> (u64, u64, u64) {
    let line = out
        .iter()
        .find(|l| l.starts_with("nats: "))
        .unwrap_or_else(|| panic!("no NATS summary in {out:?}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// The event ids of a store, in export order.
pub fn exported_ids(data_dir: &Path) -> Vec<String> {
    let export = run(&["export", "--data-dir", data_dir.to_str().unwrap()]);
    assert!(export.status.success(), "{:?}", export.err);
    export
        .out
        .iter()
        .map(|l| {
            let event: Value = serde_json::from_str(l).expect("an exported event");
            event["event_id"].as_str().expect("an id").to_owned()
        })
        .collect()
}
