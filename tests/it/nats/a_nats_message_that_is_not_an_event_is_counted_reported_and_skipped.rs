//! Messages in the stream that are not events (not JSON, not UTF-8, an
//! `event_type` of the wrong type, not an object) are terminated, counted
//! and reported as `event_center.events_dropped` to the center the source
//! feeds; the events around them arrive, and the bad messages never come
//! back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter, NatsSource};
use event_center_test_support::nats_server::NatsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_message_that_is_not_an_event_is_counted_reported_and_skipped() {
    let server = NatsServer::start();
    let url = server.url();
    let build = || {
        NatsSource::builder(&url, "strict")
            .with_batch(10, Duration::from_millis(20))
            .with_ack_wait(Duration::from_secs(1))
            .build()
    };
    // The source creates the stream; then raw messages go in, good and bad.
    let source = build().await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
    let bad: [&[u8]; 4] = [
        b"not json",
        b"\xff\xfe\xfd",
        br#"{"event_type": 5}"#,
        b"[1, 2, 3]",
    ];
    let mut good = Vec::new();
    for (i, payload) in bad.iter().enumerate() {
        let event = Event::new("model.completed").with_payload(i);
        good.push(event.event_id.to_string());
        let json = serde_json::to_vec(&event).unwrap();
        js.publish("events.model.completed", json.into())
            .await
            .unwrap()
            .await
            .unwrap();
        js.publish("events.model.completed", payload.to_vec().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    let center = EventCenter::new();
    let received = Arc::new(Mutex::new(Vec::new()));
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    center
        .register_hook("events", "model.*", move |e: &Event| {
            seen.lock().unwrap().push(e.event_id.to_string());
        })
        .unwrap();
    let seen = reports.clone();
    center
        .register_hook(
            "reports",
            "event_center.events_dropped",
            move |e: &Event| {
                seen.lock().unwrap().push(e.payload.clone());
            },
        )
        .unwrap();
    let stop = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while (received.lock().unwrap().len() < good.len() || reports.lock().unwrap().len() < 4)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let stats = source.run_into(&center, stop).await;
    assert_eq!(*received.lock().unwrap(), good);
    assert_eq!(
        (stats.delivered, stats.rejected, stats.errors),
        (4, 4, 0),
        "{stats:?}"
    );
    let reports = reports.lock().unwrap().clone();
    let sequences: Vec<u64> = reports
        .iter()
        .map(|r| {
            assert_eq!(r["reason"], "invalid_event", "{r}");
            assert_eq!(r["subject"], "events.model.completed", "{r}");
            r["stream_sequence"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(sequences, [2, 4, 6, 8]);
    assert!(
        reports[2]["error"].as_str().unwrap().contains("event_type"),
        "{reports:?}"
    );
    drop(source);

    // The bad messages were terminated: past the ack wait, nothing comes
    // back to the same durable consumer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = build().await.unwrap();
    let stats = again
        .run(
            tokio::time::sleep(Duration::from_millis(500)),
            |_: Vec<Event>| async { Ok::<(), std::io::Error>(()) },
        )
        .await;
    assert_eq!((stats.received, stats.rejected), (0, 0), "{stats:?}");
}
