//! A `serve --nats` stopped with SIGTERM while events flow, then started
//! again with the same durable name and store, takes up where it stopped:
//! every event published before, during and between the two runs is
//! stored, and nothing the first run took is delivered to the second.

use crate::support;

use event_center_test_support::nats_server;

use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, EventId, NatsSink, Overflow, RunContext};

const RUN: &str = "restart-run";
const TOTAL: u64 = 10_000;

/// Publishes events `range` (run `RUN`, known ids) and waits until NATS has
/// them.
fn publish(url: &str, range: Range<u64>) {
    let center = EventCenter::new();
    let guard = NatsSink::builder(url)
        .with_delivery(Delivery::background(65_536, Overflow::Block))
        .register(&center, "nats")
        .expect("the sink connects and registers");
    let run = RunContext::new("producer").with_run_id(RUN);
    for i in range {
        let mut event = Event::new("agent.step").with_run(run.clone());
        event.event_id = EventId::parse(&format!("{i:032x}"));
        center.emit_event(event);
    }
    guard.flush(Duration::from_secs(60));
    let stats = guard.stats();
    guard.shutdown(Duration::from_secs(60));
    assert_eq!((stats.lost, stats.pending), (0, 0), "{stats:?}");
}

#[test]
fn a_restarted_serve_resumes_its_nats_durable_without_loss() {
    let nats = nats_server::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let nats_url = nats.url();
    let flags = ["--nats", nats_url.as_str(), "--nats-durable", "archive"];

    let (mut first, url) = support::serve(dir.path(), &flags);
    std::thread::scope(|scope| {
        let publisher = scope.spawn(|| publish(&nats_url, 0..TOTAL / 2));
        support::wait_for_count(1, || support::run_event_count(&url, RUN));
        first.terminate();
        publisher.join().expect("the first half is published");
    });
    assert!(first.wait_exit().success(), "{}", first.transcript());
    let (first_taken, first_new, _) = support::nats_summary(&first.out);

    publish(&nats_url, TOTAL / 2..TOTAL);
    let (mut second, url) = support::serve(dir.path(), &flags);
    let stored = support::wait_for_count(TOTAL, || support::run_event_count(&url, RUN));
    assert_eq!(stored, TOTAL, "{}", second.transcript());
    std::thread::sleep(Duration::from_millis(500));
    second.terminate();
    assert!(second.wait_exit().success(), "{}", second.transcript());
    let (second_taken, second_new, second_duplicates) = support::nats_summary(&second.out);

    assert_eq!(first_new + second_new, TOTAL);
    assert_eq!(
        (first_taken + second_taken, second_duplicates),
        (TOTAL, 0),
        "the second run got events the first had taken: {:?} {:?}",
        first.out,
        second.out
    );
    println!("the first run stored {first_new} events, the second {second_new}");
    let ids: BTreeSet<String> = support::exported_ids(dir.path()).into_iter().collect();
    let expected: BTreeSet<String> = (0..TOTAL).map(|i| format!("{i:032x}")).collect();
    assert_eq!(ids, expected);
}
