//! A real `nats-server` with JetStream for the `nats` tests: started on
//! 127.0.0.1 with a free port and its store in a temporary directory,
//! killed on drop.
//!
//! The server comes from `bash scripts/nats_server.sh install` (the test
//! command runs it; a missing server is installed here too, and a failed
//! install fails the test with the reason).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::ports::free_port;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/nats_server.sh");
/// How long a started server may take to take connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `nats-server -js`.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl NatsServer {
    /// Installs the server if needed and starts it on a free port.
    pub fn start() -> Self {
        ensure_installed();
        let store = tempfile::tempdir().expect("a temporary directory for the JetStream store");
        let port = free_port();
        let mut server = NatsServer {
            child: None,
            port,
            store,
        };
        server.spawn();
        server
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its store stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.log_path()).expect("create the server log");
        let child = Command::new(binary())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path().join("jetstream"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("nats-server exited ({status}):\n{}", self.log());
            }
            if jetstream_ready(self.port) {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "nats-server did not take connections within {START_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.store.path().join("server.log")
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a server on `port` answers with an INFO line announcing JetStream.
fn jetstream_ready(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok()
        && line.starts_with("INFO")
        && line.contains("\"jetstream\":true")
}

/// `nats-server` on PATH, or where Debian puts it (`/usr/sbin`, which is not
/// on every user's PATH).
fn find_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|dir| dir.join("nats-server"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([PathBuf::from("/usr/sbin/nats-server")])
        .find(|path| path.is_file())
}

fn binary() -> PathBuf {
    find_binary().expect("nats-server is installed")
}

/// Makes sure `nats-server` is installed; panics with the installer's
/// output if it cannot be.
pub fn ensure_installed() {
    if find_binary().is_some() {
        return;
    }
    let output = Command::new("bash")
        .arg(SCRIPT)
        .arg("install")
        .output()
        .expect("run bash scripts/nats_server.sh install");
    assert!(
        output.status.success(),
        "nats-server is not installed and installing it failed \
         (run `bash scripts/nats_server.sh install`, which needs apt-get):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// What a stream holds, read straight from the server: its message count
/// and the `Nats-Msg-Id` and subject of every message.
pub struct StreamContents {
    pub messages: u64,
    pub ids: Vec<String>,
    pub subjects: Vec<String>,
}

/// Reads every message of `stream` with an ordered consumer of its own
/// (which leaves the stream and its durable consumers as they are).
pub async fn stream_contents(url: &str, stream: &str) -> StreamContents {
    let client = async_nats::connect(url).await.expect("connect");
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream(stream).await.expect("the stream exists");
    let messages = stream.info().await.expect("stream info").state.messages;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("an ordered consumer");
    let mut reader = consumer.messages().await.expect("read the stream");
    let mut ids = Vec::new();
    let mut subjects = Vec::new();
    while (ids.len() as u64) < messages {
        let message = tokio::time::timeout(Duration::from_secs(10), reader.next())
            .await
            .expect("the stream's messages arrive")
            .expect("a message")
            .expect("a message, not an error");
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .expect("every message carries a Nats-Msg-Id");
        ids.push(id);
        subjects.push(message.subject.to_string());
    }
    StreamContents {
        messages,
        ids,
        subjects,
    }
}

/// Asserts that `ids` holds no id twice, and returns them as a set.
pub fn distinct(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "some ids came more than once");
    set
}

/// The event id of event `i` of producer `p`: known to a test up front.
pub fn producer_event_id(p: u64, i: u64) -> String {
    format!("{p:08x}{i:024x}")
}

/// The NATS URL and producer number this process was started with by
/// [`ProducerProcess::spawn`], if it was: a `harness = false` test's main
/// then acts as that producer instead of running the test.
pub fn producer_role() -> Option<(String, u64)> {
    let url = std::env::var("NATS_PRODUCER_URL").ok()?;
    let index = std::env::var("NATS_PRODUCER_INDEX")
        .expect("NATS_PRODUCER_INDEX is set with NATS_PRODUCER_URL")
        .parse()
        .expect("a producer number");
    Some((url, index))
}

/// This test binary run again as producer `index` (see [`producer_role`]),
/// killed if the test gives up on it.
pub struct ProducerProcess(Child);

impl Drop for ProducerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ProducerProcess {
    pub fn spawn(url: &str, index: u64) -> Self {
        let child = Command::new(std::env::current_exe().expect("this test's binary"))
            .env("NATS_PRODUCER_URL", url)
            .env("NATS_PRODUCER_INDEX", index.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a producer process");
        ProducerProcess(child)
    }

    /// Waits (until `deadline`) for the producer to succeed; returns what
    /// it printed.
    pub fn finish(mut self, deadline: Instant) -> String {
        loop {
            if let Some(status) = self.0.try_wait().expect("wait for a producer") {
                let mut out = String::new();
                std::io::Read::read_to_string(
                    &mut self.0.stdout.take().expect("piped stdout"),
                    &mut out,
                )
                .expect("read the producer's output");
                assert!(status.success(), "a producer failed ({status}): {out}");
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "a producer did not finish in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
