//! `event-center serve --nats URL` fans in three producer processes that
//! publish 10,000 events each through a `NatsSink` (one of them publishes a
//! batch of 1,000 again, as a retry would): the store ends with exactly the
//! 30,000 events, none twice.
//!
//! A `harness = false` test: run with `NATS_PRODUCER_URL` set, its main is
//! a producer (this binary, re-executed by the test).

#[path = "../../tests/nats_server/mod.rs"]
mod nats_server;
mod support;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, EventId, NatsSink, Overflow, RunContext};
use serde_json::json;

const PRODUCERS: u64 = 3;
const PER_PRODUCER: u64 = 10_000;
const REPUBLISHED: usize = 1_000;
const PREFIX: &str = "agents";
const STREAM: &str = "AGENTS";

/// Event `i` of producer `p`'s id: known to the test up front.
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
    serve_stores_each_event_of_three_nats_producer_processes_once();
    println!("test serve_stores_each_event_of_three_nats_producer_processes_once ... ok");
}

/// One producer: its events in the run `producer-P`; producer 0 then
/// publishes its first 1,000 again with the same ids.
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
    let run = RunContext::new("producer").with_run_id(format!("producer-{producer}"));
    let events: Vec<Event> = (0..PER_PRODUCER)
        .map(|i| {
            let mut event = Event::new("agent.step")
                .with_source(format!("producer-{producer}"))
                .with_run(run.clone())
                .with_payload(json!({"i": i}));
            event.event_id = EventId::parse(&event_id(producer, i));
            event
        })
        .collect();
    for event in &events {
        center.emit_event(event.clone());
    }
    if producer == 0 {
        for event in &events[..REPUBLISHED] {
            center.emit_event(event.clone());
        }
    }
    let stats = guard.shutdown(Duration::from_secs(60));
    assert_eq!((stats.lost, stats.pending), (0, 0), "{stats:?}");
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
            .spawn()
            .expect("start a producer process");
        Producer(child)
    }

    fn finish(mut self, deadline: Instant) {
        loop {
            if let Some(status) = self.0.try_wait().expect("wait for a producer") {
                assert!(status.success(), "a producer failed ({status})");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "a producer did not finish in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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

    let producers: Vec<Producer> = (0..PRODUCERS)
        .map(|p| Producer::spawn(&nats_url, p))
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
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| event_id(p, i)))
        .collect();
    assert_eq!(distinct, expected);
}
