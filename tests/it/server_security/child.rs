//! An observation server in a child process (this test binary again,
//! running only [`serve_until_standard_input_closes`]): its peak memory and
//! CPU time are its own, and its open-file limit can be lowered without
//! touching the tests'.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::start_on;

/// The child server's settings, as JSON, in this variable.
const CHILD_ENV: &str = "EVENT_CENTER_SECURITY_CHILD_SERVER";

/// An observation server in a child process, stopped on drop.
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub addr: SocketAddr,
    /// Its data directory, removed on drop.
    _dir: tempfile::TempDir,
}

impl ChildServer {
    /// Starts one with `settings` (`in_flight`, `admission_wait_ms`,
    /// `stream_buffer`, `max_events`, `max_bytes`, and `open_files`, its
    /// soft open-file limit, each optional).
    pub fn start(mut settings: Value) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        settings["dir"] = json!(dir.path());
        // The test's full path in this binary, as libtest names it: this
        // module's path without the crate's name.
        let module = module_path!().split_once("::").map_or("", |(_, m)| m);
        let test = format!("{module}::serve_until_standard_input_closes");
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                test.as_str(),
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, settings.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the child server starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("its output");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the child says where it listens")
                .expect("its output is text");
            // libtest may have written the test's name on the same line.
            if let Some((_, url)) = line.split_once("listening on http://") {
                break url.trim().parse().expect("an address");
            }
        };
        // Keep reading its output, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ChildServer {
            child,
            stdin,
            addr,
            _dir: dir,
        }
    }

    fn status_field(&self, name: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the child's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("the field in /proc/PID/status")
    }

    /// Its peak resident size, in bytes.
    pub fn peak_rss(&self) -> u64 {
        self.status_field("VmHWM:") * 1024
    }

    /// The CPU time it used (user and system), from `/proc/PID/stat`.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the child's stat");
        let after = &stat[stat.rfind(')').expect("a command name") + 2..];
        let fields: Vec<u64> = after
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // utime and stime, fields 14 and 15 of the line, in clock ticks
        // (100 per second on Linux).
        Duration::from_millis((fields[11] + fields[12]) * 10)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test of its own: the server process of [`ChildServer`], run
/// (with `--ignored`) only when [`CHILD_ENV`] holds its settings.
#[test]
#[ignore = "the server process that ChildServer starts"]
fn serve_until_standard_input_closes() {
    let Ok(settings) = std::env::var(CHILD_ENV) else {
        return;
    };
    let settings: Value = serde_json::from_str(&settings).expect("JSON settings");
    if let Some(n) = settings["open_files"].as_u64() {
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("the open-file limit");
        rlimit::setrlimit(rlimit::Resource::NOFILE, n, hard).expect("lower the open-file limit");
    }
    let dir = std::path::PathBuf::from(settings["dir"].as_str().expect("a data directory"));
    let handle = start_on(&dir, |mut builder| {
        if let Some(n) = settings["in_flight"].as_u64() {
            builder = builder.with_in_flight_budget(n as usize);
        }
        if let Some(ms) = settings["admission_wait_ms"].as_u64() {
            builder = builder.with_admission_wait(Duration::from_millis(ms));
        }
        if let Some(n) = settings["stream_buffer"].as_u64() {
            builder = builder.with_stream_buffer(n as usize);
        }
        let mut retention = event_center::Retention::unlimited();
        if let Some(n) = settings["max_events"].as_u64() {
            retention = retention.with_max_events(n);
        }
        if let Some(n) = settings["max_bytes"].as_u64() {
            retention = retention.with_max_bytes(n);
        }
        builder.with_retention(retention)
    });
    println!("listening on {}", handle.url());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    handle.shutdown();
}
