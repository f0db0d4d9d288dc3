//! Three producer processes publish 10,000 events each through a
//! `NatsSink`, and each re-publishes a batch of 1,000 it already sent (as a
//! retry would): the stream holds exactly 30,000 messages, and a
//! `NatsSource` receives exactly those 30,000 event ids, none twice.
//!
//! A `harness = false` test: run without `NATS_PRODUCER_URL`, its main is
//! the test, which starts a server and re-executes this binary three times
//! with `NATS_PRODUCER_URL` set; then its main is a producer, which prints
//! its sink's numbers as one JSON line.

mod nats_server;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, EventId, NatsSink, NatsSource, Overflow};
use nats_server::NatsServer;
use serde_json::{json, Value};

const PRODUCERS: u64 = 3;
const PER_PRODUCER: u64 = 10_000;
const REPUBLISHED: u64 = 1_000;
const STREAM: &str = "PRODUCERS";
const PREFIX: &str = "producers";
const TYPES: [&str; 4] = [
    "model.requested",
    "model.completed",
    "tool.called",
    "agent.step",
];

/// The event id of event `i` of producer `p`: known to the test up front.
fn event_id(p: u64, i: u64) -> String {
    format!("{p:08x}{i:024x}")
}

fn main() {
    if let Ok(url) = std::env::var("NATS_PRODUCER_URL") {
        let index = std::env::var("NATS_PRODUCER_INDEX")
            .expect("NATS_PRODUCER_INDEX")
            .parse()
            .expect("a producer number");
        produce(&url, index);
        return;
    }
    let name = "three_producer_processes_store_each_event_exactly_once";
    three_producer_processes_store_each_event_exactly_once();
    println!("test {name} ... ok");
}

/// One producer: 10,000 events through the sink, then the first 1,000
/// again with the same ids; prints the sink's numbers.
fn produce(url: &str, producer: u64) {
    let center = EventCenter::new();
    let guard = NatsSink::builder(url)
        .with_prefix(PREFIX)
        .with_stream(STREAM)
        .with_delivery(Delivery::background(65_536, Overflow::Block))
        .build()
        .expect("the sink connects")
        .register(&center, "nats")
        .expect("the sink registers");
    let events: Vec<Event> = (0..PER_PRODUCER)
        .map(|i| {
            let mut event = Event::new(TYPES[(i % 4) as usize])
                .with_source(format!("producer-{producer}"))
                .with_payload(json!({"producer": producer, "i": i}));
            event.event_id = EventId::parse(&event_id(producer, i));
            event
        })
        .collect();
    let started = Instant::now();
    for event in &events {
        center.emit_event(event.clone());
    }
    // A retry of a batch already sent: the same ids, published again.
    for event in &events[..REPUBLISHED as usize] {
        center.emit_event(event.clone());
    }
    let stats = guard.shutdown(Duration::from_secs(60));
    let seconds = started.elapsed().as_secs_f64();
    let line = json!({
        "seconds": seconds,
        "accepted": stats.accepted,
        "published": stats.published,
        "duplicates": stats.duplicates,
        "lost": stats.lost,
        "pending": stats.pending,
        "dropped": center.stats().hooks.iter().map(|h| h.dropped.total()).sum::<u64>(),
    });
    println!("{line}");
}

/// A producer process, killed if the test gives up on it.
struct Producer(Child);

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Producer {
    fn spawn(url: &str, index: u64) -> Self {
        let child = Command::new(std::env::current_exe().expect("this test's binary"))
            .env("NATS_PRODUCER_URL", url)
            .env("NATS_PRODUCER_INDEX", index.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a producer process");
        Producer(child)
    }

    /// Waits (bounded) for the producer and returns its numbers.
    fn finish(mut self, deadline: Instant) -> Value {
        loop {
            if let Some(status) = self.0.try_wait().expect("wait for a producer") {
                let mut out = String::new();
                self.0
                    .stdout
                    .take()
                    .expect("piped stdout")
                    .read_to_string(&mut out)
                    .expect("read the producer's output");
                assert!(status.success(), "a producer failed ({status}): {out}");
                return serde_json::from_str(out.trim()).expect("the producer's numbers");
            }
            assert!(
                Instant::now() < deadline,
                "a producer did not finish in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn three_producer_processes_store_each_event_exactly_once() {
    let server = NatsServer::start();
    let url = server.url();
    let total = PRODUCERS * PER_PRODUCER;
    let expected: BTreeSet<String> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| event_id(p, i)))
        .collect();

    let started = Instant::now();
    let producers: Vec<Producer> = (0..PRODUCERS).map(|p| Producer::spawn(&url, p)).collect();
    let deadline = started + Duration::from_secs(180);
    let mut slowest: f64 = 0.0;
    for producer in producers {
        let stats = producer.finish(deadline);
        slowest = slowest.max(stats["seconds"].as_f64().expect("seconds"));
        let count = |key: &str| stats[key].as_u64().expect(key);
        assert_eq!(count("accepted"), PER_PRODUCER + REPUBLISHED, "{stats}");
        assert_eq!(
            count("published") + count("duplicates"),
            PER_PRODUCER + REPUBLISHED,
            "{stats}"
        );
        assert!(count("duplicates") >= REPUBLISHED, "{stats}");
        assert_eq!(
            (count("lost"), count("pending"), count("dropped")),
            (0, 0, 0),
            "{stats}"
        );
    }
    let published_in = started.elapsed();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let stored = runtime.block_on(nats_server::stream_contents(&url, STREAM));
    assert_eq!(stored.messages, total);
    assert_eq!(nats_server::distinct(&stored.ids), expected);

    let received = Arc::new(Mutex::new(Vec::new()));
    let consumed_in = std::sync::OnceLock::new();
    let stats = runtime.block_on(async {
        let started = Instant::now();
        let source = NatsSource::builder(&url, "counter")
            .with_prefix(PREFIX)
            .with_stream(STREAM)
            .build()
            .await
            .expect("the source connects");
        let seen = received.clone();
        let stop = async {
            let deadline = Instant::now() + Duration::from_secs(120);
            while (received.lock().unwrap().len() as u64) < total && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = consumed_in.set(started.elapsed());
            // Anything delivered twice would come now.
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        source
            .run(stop, move |events: Vec<Event>| {
                let mut seen = seen.lock().unwrap();
                seen.extend(events.iter().map(|e| e.event_id.to_string()));
                async { Ok::<(), std::io::Error>(()) }
            })
            .await
    });
    let consumed_in = consumed_in.get().expect("the stop future ran");
    let received = received.lock().unwrap();
    assert_eq!(received.len() as u64, total, "{stats:?}");
    assert_eq!(nats_server::distinct(&received), expected);
    assert_eq!(
        (
            stats.delivered,
            stats.rejected,
            stats.handler_failures,
            stats.errors
        ),
        (total, 0, 0, 0),
        "{stats:?}"
    );
    let per_producer = PER_PRODUCER + REPUBLISHED;
    println!(
        "{total} events from {PRODUCERS} processes at once, {per_producer} publishes each in \
         at most {slowest:.2} s ({:.0}/s per process; {:.2} s with process startup); \
         consumed in {:.2} s ({:.0}/s)",
        per_producer as f64 / slowest,
        published_in.as_secs_f64(),
        consumed_in.as_secs_f64(),
        total as f64 / consumed_in.as_secs_f64(),
    );
}
