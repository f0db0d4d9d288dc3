//! Shutting the server down ends its open event streams (the client sees
//! the stream end, not a hang), lets the port go, and keeps every event it
//! had acknowledged: a server on the same data directory has them all.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crate::support::observation_server::{agent, start_on, TestServer};
use serde_json::json;

#[test]
fn shutdown_ends_open_streams_and_frees_the_port() {
    let TestServer { handle, dir, .. } = TestServer::start();
    let addr = handle.local_addr();
    let stream = agent()
        .get(&format!("{}/observation/stream", handle.url()))
        .call()
        .expect("the stream opens");
    let events: Vec<_> = (0..100)
        .map(|i| event_center::Event::new(format!("step.{i}")))
        .collect();
    assert_eq!(handle.ingest(&events).unwrap(), 100);

    // Read until all 100 have arrived, then on to the stream's end.
    let (arrived, all_there) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = 0;
        for line in BufReader::new(stream.into_reader()).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("data: ") {
                seen += 1;
                if seen == 100 {
                    let _ = arrived.send(());
                }
            }
        }
        seen
    });
    all_there
        .recv_timeout(Duration::from_secs(30))
        .expect("the 100 events arrive");
    let stopping = Instant::now();
    handle.shutdown();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "took {:?}",
        stopping.elapsed()
    );
    assert_eq!(reader.join().unwrap(), 100, "the stream ended");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is free"
    );

    let again = start_on(dir.path(), |b| b);
    let body: serde_json::Value = ureq::get(&format!(
        "{}/observation/events/recent?limit=1000",
        again.url()
    ))
    .call()
    .unwrap()
    .into_json()
    .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(body["data"][0]["meta"], json!({"app_id": "default"}));
}
