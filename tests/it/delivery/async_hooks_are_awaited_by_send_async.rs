//! `send_async().await` returns after every matching async hook has finished
//! with the event; `send()` never waits for async hooks, which still receive
//! every event, in emit order, on their own worker.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter};

const SLEEP: Duration = Duration::from_millis(20);

type Seen = Arc<Mutex<Vec<u64>>>;

/// An async hook that sleeps, then records the event's payload number.
fn sleepy_recorder(center: &EventCenter, name: &'static str) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_async_hook(name, "job.*", move |e: Arc<Event>| {
            let sink = sink.clone();
            async move {
                tokio::time::sleep(SLEEP).await;
                sink.lock().unwrap().push(e.payload.as_u64().unwrap());
            }
        })
        .unwrap();
    seen
}

fn delivered(center: &EventCenter, name: &str) -> u64 {
    center
        .stats()
        .hooks
        .iter()
        .find(|h| h.name == name)
        .unwrap()
        .delivered
}

#[tokio::test]
async fn send_async_returns_after_the_hook_has_finished() {
    let center = EventCenter::new();
    let seen = sleepy_recorder(&center, "sleepy");
    let emitter = center.emitter("Worker");

    for i in 0..3u64 {
        let start = Instant::now();
        emitter.emit("job.done").payload(i).send_async().await;
        assert!(
            start.elapsed() >= SLEEP,
            "returned after {:?}",
            start.elapsed()
        );
        assert_eq!(*seen.lock().unwrap(), (0..=i).collect::<Vec<_>>());
    }
    assert_eq!(delivered(&center, "sleepy"), 3);
}

#[tokio::test]
async fn send_async_awaits_every_async_hook_in_registration_order() {
    let center = EventCenter::new();
    let order: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    for name in ["first", "second", "third"] {
        let order = order.clone();
        center
            .register_async_hook(name, "job.*", move |_: Arc<Event>| {
                let order = order.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    order.lock().unwrap().push(name);
                }
            })
            .unwrap();
    }
    let sync_order = order.clone();
    center
        .register_hook("sync", "job.*", move |_: &Event| {
            sync_order.lock().unwrap().push("sync");
        })
        .unwrap();

    center.emitter("W").emit("job.done").send_async().await;
    assert_eq!(*order.lock().unwrap(), ["first", "second", "third", "sync"]);
}

#[test]
fn send_from_a_plain_thread_does_not_wait_and_delivers_everything_in_order() {
    const N: u64 = 20;
    let center = EventCenter::new();
    let seen = sleepy_recorder(&center, "sleepy");

    let c = center.clone();
    let send_time = thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let emitter = c.emitter("Worker");
        let start = Instant::now();
        for i in 0..N {
            emitter.emit("job.done").payload(i).send();
        }
        start.elapsed()
    })
    .join()
    .unwrap();

    // Handling all of them takes N * 20 ms = 400 ms; sending took far less.
    assert!(
        send_time < Duration::from_millis(150),
        "send waited for the hook: {send_time:?}"
    );
    let early = seen.lock().unwrap().len() as u64;
    assert!(early < N, "all {N} handled before send returned");

    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < N as usize && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(*seen.lock().unwrap(), (0..N).collect::<Vec<_>>());
    // Give the worker a moment to count the last delivery.
    let deadline = Instant::now() + Duration::from_secs(1);
    while delivered(&center, "sleepy") < N && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(delivered(&center, "sleepy"), N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_async_after_queued_sends_waits_for_them_and_keeps_order() {
    let center = EventCenter::new();
    let seen = sleepy_recorder(&center, "sleepy");
    let emitter = center.emitter("Worker");

    for i in 0..3u64 {
        emitter.emit("job.done").payload(i).send();
    }
    emitter.emit("job.done").payload(3u64).send_async().await;

    assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3]);
}
