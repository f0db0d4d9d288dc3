//! `event-center serve --nats URL` fans in three producer processes that
//! publish 10,000 events each through a `NatsSink` (one of them publishes a
//! batch of 1,000 again, as a retry would): the store ends with exactly the
//! 30,000 events, none twice.
//!
//! A `harness = false` test: run with `NATS_PRODUCER_URL` set, its main is
//! a producer (this binary, re-executed by the test).

#[path = "it/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use event_center::{Event, EventId, RunContext};
use event_center_test_support::nats_server::{self, producer_event_id, ProducerProcess};
use serde_json::json;

const PRODUCERS: u64 = 3;
const PER_PRODUCER: u64 = 10_000;
const REPUBLISHED: usize = 1_000;
const PREFIX: &str = "agents";
const STREAM: &str = "AGENTS";

fn main() {
    if let Some((url, index)) = nats_server::producer_role() {
        produce(&url, index);
        return;
    }
    serve_stores_each_event_of_three_nats_producer_processes_once();
    println!("test serve_stores_each_event_of_three_nats_producer_processes_once ... ok");
}

/// One producer: its events in the run `producer-P`; producer 0 then
/// publishes its first 1,000 again with the same ids.
fn produce(url: &str, producer: u64) {
    let run = RunContext::new("producer").with_run_id(format!("producer-{producer}"));
    let events: Vec<Event> = (0..PER_PRODUCER)
        .map(|i| {
            let mut event = Event::new("agent.step")
                .with_source(format!("producer-{producer}"))
                .with_run(run.clone())
                .with_payload(json!({"i": i}));
            event.event_id = EventId::parse(&producer_event_id(producer, i));
            event
        })
        .collect();
    let again = if producer == 0 { REPUBLISHED } else { 0 };
    let (stats, _) = publish(url, PREFIX, STREAM, &events, again);
    assert_eq!((stats.lost, stats.pending), (0, 0), "{stats:?}");
}

fn serve_stores_each_event_of_three_nats_producer_processes_once() {
    let nats = nats_server::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let nats_url = nats.url();
    let (mut serve, url) = support::serve(
        dir.path(),
        &[
            "--nats",
            &nats_url,
            "--nats-prefix",
            PREFIX,
            "--nats-stream",
            STREAM,
        ],
    );

    let producers: Vec<ProducerProcess> = (0..PRODUCERS)
        .map(|p| ProducerProcess::spawn(&nats_url, p))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    for producer in producers {
        producer.finish(deadline);
    }
    let total = PRODUCERS * PER_PRODUCER;
    let stored = || {
        (0..PRODUCERS)
            .map(|p| support::run_event_count(&url, &format!("producer-{p}")))
            .sum::<u64>()
    };
    assert_eq!(
        support::wait_for_count(total, stored),
        total,
        "{}",
        serve.transcript()
    );
    // Anything stored twice would come now.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stored(), total);

    serve.terminate();
    assert!(serve.wait_exit().success(), "{}", serve.transcript());
    let (taken, new, duplicates) = support::nats_summary(&serve.out);
    assert_eq!(new, total, "{:?}", serve.out);
    assert_eq!(taken, new + duplicates, "{:?}", serve.out);

    let ids = support::exported_ids(dir.path());
    let distinct: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(distinct.len(), ids.len(), "an event was stored twice");
    let expected: BTreeSet<String> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| producer_event_id(p, i)))
        .collect();
    assert_eq!(distinct, expected);
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
