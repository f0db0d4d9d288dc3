//! A real OTLP/HTTP receiver for the otlp tests: a `TcpListener` on
//! 127.0.0.1 that accepts `POST /v1/logs` and `POST /v1/traces`, decodes the
//! protobuf bodies and hands the decoded requests to the test. It answers
//! 200 with an empty body, serves keep-alive connections, and stops by
//! itself when dropped or after its deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How long a receiver lives at most.
const LIFETIME: Duration = Duration::from_secs(60);
/// The largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One decoded export request.
#[derive(Debug)]
pub enum Received {
    Logs(ExportLogsServiceRequest),
    Traces(ExportTraceServiceRequest),
}

pub struct OtlpReceiver {
    pub endpoint: String,
    requests: Receiver<Received>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpReceiver {
    /// Starts a receiver on a free port of 127.0.0.1.
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || serve(listener, tx, flag));
        OtlpReceiver {
            endpoint,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Collects log records and spans until `done` says it has enough, or
    /// until `timeout`; returns what arrived.
    pub fn collect_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[LogRecord], &[Span]) -> bool,
    ) -> (Vec<LogRecord>, Vec<Span>) {
        let deadline = Instant::now() + timeout;
        let (mut logs, mut spans) = (Vec::new(), Vec::new());
        while !done(&logs, &spans) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.requests.recv_timeout(left) {
                Ok(Received::Logs(request)) => {
                    for resource in request.resource_logs {
                        for scope in resource.scope_logs {
                            logs.extend(scope.log_records);
                        }
                    }
                }
                Ok(Received::Traces(request)) => {
                    for resource in request.resource_spans {
                        for scope in resource.scope_spans {
                            spans.extend(scope.spans);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        (logs, spans)
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: TcpListener, tx: Sender<Received>, stop: Arc<AtomicBool>) {
    let deadline = Instant::now() + LIFETIME;
    let mut connections = Vec::new();
    while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let tx = tx.clone();
                let stop = stop.clone();
                connections.push(std::thread::spawn(move || {
                    let _ = handle(stream, &tx, &stop, deadline);
                }));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    stop.store(true, Ordering::Release);
    for connection in connections {
        let _ = connection.join();
    }
}

/// Serves the requests of one connection until it closes, the receiver
/// stops or the deadline passes.
fn handle(
    stream: TcpStream,
    tx: &Sender<Received>,
    stop: &AtomicBool,
    deadline: Instant,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        // The request line, waiting in short steps so that a stop is seen.
        let mut line = String::new();
        loop {
            if stop.load(Ordering::Acquire) || Instant::now() >= deadline {
                return Ok(());
            }
            match reader.read_line(&mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            }
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        if length > MAX_BODY {
            writer.write_all(
                b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let decoded = match (method, path) {
            ("POST", "/v1/logs") => ExportLogsServiceRequest::decode(body.as_slice())
                .ok()
                .map(Received::Logs),
            ("POST", "/v1/traces") => ExportTraceServiceRequest::decode(body.as_slice())
                .ok()
                .map(Received::Traces),
            _ => None,
        };
        let status = if decoded.is_some() {
            "200 OK"
        } else {
            "400 Bad Request"
        };
        writer.write_all(
            format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
            )
            .as_bytes(),
        )?;
        if let Some(decoded) = decoded {
            let _ = tx.send(decoded);
        }
    }
}

/// The attribute `key` of `attributes`, as text (strings as they are,
/// numbers and booleans printed).
pub fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    text(value)
}

/// An `AnyValue` as text.
pub fn text(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Bytes as lowercase hex, as trace and span ids are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
