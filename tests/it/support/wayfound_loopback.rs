//! A loopback HTTP server for the Wayfound client tests: it binds
//! 127.0.0.1 on a free port, answers a fixed script of responses (one per
//! connection, as Wayfound documents them), records each request, and stops
//! by itself after the script or a 10-second deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One request the server received.
#[derive(Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
}

/// A running server: its base URL, and the requests once it stops.
pub struct Loopback {
    pub url: String,
    handle: JoinHandle<Vec<Recorded>>,
}

impl Loopback {
    /// Waits for the server to stop and returns what it received.
    pub fn finish(self) -> Vec<Recorded> {
        self.handle
            .join()
            .expect("the loopback server thread panicked")
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Serves `script` (status, body) in order, one response per connection.
pub fn serve(script: Vec<(u16, &'static str)>) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut recorded = Vec::new();
        for (status, body) in script {
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break Some(stream),
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(_) => break None,
                }
            };
            let Some(mut stream) = stream else { break };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_owned();
            let path = parts.next().unwrap_or_default().to_owned();
            let (mut length, mut authorization, mut content_type) = (0usize, None, None);
            for _ in 0..100 {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                let value = value.trim().to_owned();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap_or(0),
                    "authorization" => authorization = Some(value),
                    "content-type" => content_type = Some(value),
                    _ => {}
                }
            }
            let mut raw = vec![0u8; length];
            reader.read_exact(&mut raw).unwrap();
            recorded.push(Recorded {
                method,
                path,
                authorization,
                content_type,
                body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            });
            let response = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                reason(status),
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
            stream.flush().unwrap();
        }
        recorded
    });
    Loopback { url, handle }
}
