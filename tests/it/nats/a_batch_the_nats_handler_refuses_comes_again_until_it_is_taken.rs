//! A `NatsSource` handler that fails (a store that is down) leaves its
//! batch unacked: the same events come again after a backoff, and once the
//! handler takes them every event has been taken exactly once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter, NatsSink, NatsSource};
use event_center_test_support::nats_server::NatsServer;

const EVENTS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_nats_handler_refuses_comes_again_until_it_is_taken() {
    let server = NatsServer::start();
    let url = server.url();
    let sink_url = url.clone();
    let published: BTreeSet<String> = tokio::task::spawn_blocking(move || {
        let center = EventCenter::new();
        let guard = NatsSink::builder(sink_url)
            .register(&center, "nats")
            .unwrap();
        let mut ids = BTreeSet::new();
        for _ in 0..EVENTS {
            let event = Event::new("tool.called");
            ids.insert(event.event_id.to_string());
            center.emit_event(event);
        }
        guard.flush(Duration::from_secs(10));
        assert_eq!(guard.stats().published, EVENTS as u64);
        assert!(guard.shutdown(Duration::from_secs(10)).is_complete());
        ids
    })
    .await
    .unwrap();

    let source = NatsSource::builder(&url, "flaky-store")
        .with_batch(20, Duration::from_millis(20))
        .build()
        .await
        .unwrap();
    // The store refuses its first two batches, then takes everything.
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let taken = Arc::new(Mutex::new(Vec::<String>::new()));
    let calls = Arc::new(Mutex::new(0));
    let handler = {
        let (refused, taken, calls) = (refused.clone(), taken.clone(), calls.clone());
        move |events: Vec<Event>| {
            let ids = events.iter().map(|e| e.event_id.to_string());
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            let result = if *calls <= 2 {
                refused.lock().unwrap().extend(ids);
                Err(std::io::Error::other("the store is down"))
            } else {
                taken.lock().unwrap().extend(ids);
                Ok(())
            };
            async move { result }
        }
    };
    let stop = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while taken.lock().unwrap().len() < EVENTS && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let stats = source.run(stop, handler).await;

    let refused = refused.lock().unwrap().clone();
    let taken = taken.lock().unwrap().clone();
    assert!(!refused.is_empty());
    assert_eq!(
        event_center_test_support::nats_server::distinct(&taken),
        published,
        "{stats:?}"
    );
    let taken: BTreeSet<String> = taken.into_iter().collect();
    assert!(refused.iter().all(|id| taken.contains(id)));
    assert_eq!(
        (stats.handler_failures, stats.delivered, stats.errors),
        (2, EVENTS as u64, 0),
        "{stats:?}"
    );
    assert!(
        stats.last_error.unwrap().contains("the store is down"),
        "the handler's error is kept"
    );
}
