//! A `NatsSource` stopped half way through a stream and started again with
//! the same durable name takes up where it stopped: the two runs together
//! receive exactly the published events, and nothing the first run took
//! (and acked) comes again.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Delivery, Event, EventCenter, NatsSink, NatsSource, Overflow};
use event_center_test_support::nats_server::NatsServer;
use serde_json::json;

const EVENTS: usize = 4_000;
const BATCH: usize = 250;

/// Runs a source with durable name `resumer` until it has taken `until`
/// events (checked between batches) and then for `grace` more, and returns
/// the ids it took, in order. It runs on a task of its own, as a server
/// would run it.
async fn consume(url: &str, until: usize, grace: Duration) -> Vec<String> {
    let source = NatsSource::builder(url, "resumer")
        .with_batch(BATCH, Duration::from_millis(50))
        .build()
        .await
        .expect("the source connects");
    let taken = Arc::new(Mutex::new(Vec::new()));
    let seen = taken.clone();
    let counted = taken.clone();
    let stop = async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        while counted.lock().unwrap().len() < until && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(grace).await;
    };
    let handler = move |events: Vec<Event>| {
        seen.lock()
            .unwrap()
            .extend(events.iter().map(|e| e.event_id.to_string()));
        async { Ok::<(), std::io::Error>(()) }
    };
    let stats = tokio::spawn(async move { source.run(stop, handler).await })
        .await
        .expect("the source's task");
    assert_eq!((stats.errors, stats.handler_failures), (0, 0), "{stats:?}");
    let taken = taken.lock().unwrap().clone();
    assert_eq!(stats.delivered, taken.len() as u64);
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_source_restarted_with_its_durable_name_resumes_without_loss_or_redelivery() {
    let server = NatsServer::start();
    let url = server.url();

    let published: BTreeSet<String> = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            let center = EventCenter::new();
            let guard = NatsSink::builder(url)
                .with_delivery(Delivery::background(EVENTS, Overflow::Block))
                .register(&center, "nats")
                .expect("the sink connects and registers");
            let mut ids = BTreeSet::new();
            for i in 0..EVENTS {
                let event = Event::new("model.step").with_payload(json!({"i": i}));
                ids.insert(event.event_id.to_string());
                center.emit_event(event);
            }
            guard.flush(Duration::from_secs(30));
            let stats = guard.stats();
            guard.shutdown(Duration::from_secs(30));
            assert_eq!(
                (stats.published, stats.lost),
                (EVENTS as u64, 0),
                "{stats:?}"
            );
            ids
        }
    })
    .await
    .unwrap();

    // Stopped once half the events were taken: it stops between batches.
    let first = consume(&url, EVENTS / 2, Duration::ZERO).await;
    assert!(
        first.len() >= EVENTS / 2 && first.len() < EVENTS,
        "the first run took {}",
        first.len()
    );

    // Started again: the rest, and then nothing more.
    let grace = Duration::from_millis(500);
    let second = consume(&url, EVENTS - first.len(), grace).await;
    let first_set = event_center_test_support::nats_server::distinct(&first);
    let second_set = event_center_test_support::nats_server::distinct(&second);
    assert!(
        first_set.is_disjoint(&second_set),
        "{} events the first run acked came again",
        first_set.intersection(&second_set).count()
    );
    let union: BTreeSet<String> = first_set.union(&second_set).cloned().collect();
    assert_eq!(union, published, "the two runs together miss events");

    // A third run finds nothing left to take.
    assert_eq!(consume(&url, 0, grace).await, Vec::<String>::new());
}
