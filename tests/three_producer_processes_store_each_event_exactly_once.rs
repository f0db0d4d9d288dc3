//! Three producer processes publish 10,000 events each through a
//! `NatsSink`, and each re-publishes a batch of 1,000 it already sent (as a
//! retry would): the stream holds exactly 30,000 messages, and a
//! `NatsSource` receives exactly those 30,000 event ids, none twice.
//!
//! A `harness = false` test: run without `NATS_PRODUCER_URL`, its main is
//! the test, which starts a server and re-executes this binary three times
//! with `NATS_PRODUCER_URL` set; then its main is a producer, which prints
//! its sink's numbers as one JSON line.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Event, EventId, NatsSource};
use event_center_test_support::nats_server::{
    self, producer_event_id, NatsServer, ProducerProcess,
};
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

fn main() {
    if let Some((url, index)) = nats_server::producer_role() {
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
    let events: Vec<Event> = (0..PER_PRODUCER)
        .map(|i| {
            let mut event = Event::new(TYPES[(i % 4) as usize])
                .with_source(format!("producer-{producer}"))
                .with_payload(json!({"producer": producer, "i": i}));
            event.event_id = EventId::parse(&producer_event_id(producer, i));
            event
        })
        .collect();
    let started = Instant::now();
    let (stats, dropped) = publish(url, PREFIX, STREAM, &events, REPUBLISHED as usize);
    let line = json!({
        "seconds": started.elapsed().as_secs_f64(),
        "accepted": stats.accepted,
        "published": stats.published,
        "duplicates": stats.duplicates,
        "lost": stats.lost,
        "pending": stats.pending,
        "dropped": dropped,
    });
    println!("{line}");
}

fn three_producer_processes_store_each_event_exactly_once() {
    let server = NatsServer::start();
    let url = server.url();
    let total = PRODUCERS * PER_PRODUCER;
    let expected: BTreeSet<String> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| producer_event_id(p, i)))
        .collect();

    let started = Instant::now();
    let producers: Vec<ProducerProcess> = (0..PRODUCERS)
        .map(|p| ProducerProcess::spawn(&url, p))
        .collect();
    let deadline = started + Duration::from_secs(180);
    let mut slowest: f64 = 0.0;
    for producer in producers {
        let out = producer.finish(deadline);
        let stats: Value = serde_json::from_str(out.trim()).expect("the producer's numbers");
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

// Not in the test-support crate, which does not depend on event-center.
/// Publishes `events` through a `NatsSink` (a blocking background queue)
/// to `prefix` in `stream`, then the first `republished` of them again with
/// the same ids, as a retry would; returns the sink's numbers once it has
/// flushed, and how many events the center dropped.
pub fn publish(
    url: &str,
    prefix: &str,
    stream: &str,
    events: &[event_center::Event],
    republished: usize,
) -> (event_center::NatsSinkStats, u64) {
    use event_center::{Delivery, EventCenter, NatsSink, Overflow};
    let center = EventCenter::new();
    let guard = NatsSink::builder(url)
        .with_prefix(prefix)
        .with_stream(stream)
        .with_delivery(Delivery::background(65_536, Overflow::Block))
        .register(&center, "nats")
        .expect("the sink connects and registers");
    for event in events.iter().chain(&events[..republished]) {
        center.emit_event(event.clone());
    }
    guard.flush(Duration::from_secs(60));
    let stats = guard.stats();
    guard.shutdown(Duration::from_secs(60));
    let dropped = center.stats().hooks.iter().map(|h| h.dropped.total()).sum();
    (stats, dropped)
}
