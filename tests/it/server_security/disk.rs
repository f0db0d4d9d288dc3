//! The disk under sustained ingest: with `--max-events` or `--max-bytes`,
//! hundreds of thousands of events posted over HTTP without pause must
//! leave the data directory as a whole (database, write-ahead log and the
//! rest) within a small multiple of the retention cap, during the ingest
//! and after it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_center::Retention;
use serde_json::{json, Value};

use super::server::TestServer;

/// Events a test must have posted in its 25 s (an unoptimized build
/// stores them about ten times slower): tens of megabytes at least, which
/// grew the write-ahead log past any bound before it was truncated.
const MIN_POSTED: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    100_000
};

/// The bytes of every file in `dir`.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Posts batches of 500 events of about 1.2 KB from two clients until
/// `total` are posted or 25 s pass, sampling the directory's size; the
/// largest size seen, the size after, and how many were posted.
fn sustained_ingest(server: &TestServer, total: u64) -> (u64, u64, u64) {
    let posted = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(25);
    let url = server.url();
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let (posted, done, url) = (Arc::clone(&posted), Arc::clone(&done), url.clone());
            std::thread::spawn(move || {
                let agent = super::server::agent();
                let mut batch = 0u64;
                while posted.load(Ordering::SeqCst) < total && Instant::now() < deadline {
                    let events: Vec<Value> = (0..500)
                        .map(|i| {
                            json!({
                                "event_id": format!("d{client}-{batch}-{i}"),
                                "event_type": "disk.tick",
                                "run": {"run_id": format!("disk-{client}-{}", batch % 50), "run_kind": "disk"},
                                "payload": {"text": "p".repeat(1000)},
                            })
                        })
                        .collect();
                    let answer = agent
                        .post(&format!("{url}/observation/ingest"))
                        .set("Content-Type", "application/json")
                        .send_string(&json!({ "events": events }).to_string());
                    assert!(answer.is_ok(), "ingest failed: {answer:?}");
                    posted.fetch_add(500, Ordering::SeqCst);
                    batch += 1;
                }
                done.store(true, Ordering::SeqCst);
            })
        })
        .collect();
    let mut largest = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        largest = largest.max(dir_size(server.dir.path()));
        std::thread::sleep(Duration::from_millis(20));
    }
    for client in clients {
        client.join().expect("a client");
    }
    // What the checkpoints leave once the ingest stops.
    std::thread::sleep(Duration::from_millis(600));
    let after = dir_size(server.dir.path());
    (largest.max(after), after, posted.load(Ordering::SeqCst))
}

#[test]
fn max_events_bounds_the_whole_data_directory_under_sustained_ingest() {
    let server = TestServer::with(|b| b.with_retention(Retention::events(1000)));
    let (largest, after, posted) = sustained_ingest(&server, 300_000);
    let kept = server.data("/observation/events/recent?limit=5000");
    eprintln!(
        "--max-events 1000, {posted} events posted: the directory peaked at {:.1} MiB, {:.1} \
         MiB after",
        largest as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    assert_eq!(kept.as_array().map(Vec::len), Some(1000));
    assert!(posted >= MIN_POSTED, "only {posted} events posted in 25 s");
    // 1,000 events of ~1.2 KB take ~2 MiB with their indexes and runs: the
    // directory stays within a small multiple of that.
    assert!(
        largest < 24 << 20,
        "the data directory reached {largest} bytes"
    );
}

#[test]
fn max_bytes_counts_the_whole_data_directory() {
    let cap: u64 = 8 << 20;
    let server = TestServer::with(|b| b.with_retention(Retention::bytes(cap)));
    let (largest, after, posted) = sustained_ingest(&server, 200_000);
    eprintln!(
        "--max-bytes {cap}, {posted} events posted: the directory peaked at {:.1} MiB, {:.1} \
         MiB after",
        largest as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    assert!(posted >= MIN_POSTED, "only {posted} events posted in 25 s");
    assert!(after <= cap + cap / 4, "{after} bytes after the ingest");
    assert!(
        largest <= 2 * cap,
        "the data directory reached {largest} bytes"
    );
    // And it still keeps events: the newest ones.
    let kept = server.data("/observation/events/recent?limit=1");
    assert_eq!(kept.as_array().map(Vec::len), Some(1));
}
