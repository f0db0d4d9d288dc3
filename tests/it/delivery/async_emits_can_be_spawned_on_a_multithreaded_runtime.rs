//! The futures of the async emit paths are `Send`: they can be spawned onto a
//! multi-threaded runtime (this file fails to compile otherwise), and they
//! deliver from there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_center::{Event, EventCenter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_async_emits_deliver() {
    let center = EventCenter::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    center
        .register_async_hook("count", "spawned.*", move |_: Arc<Event>| {
            let counter = counter.clone();
            async move {
                tokio::task::yield_now().await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();

    let emitter = center.emitter("Spawner");
    let by_emitter = tokio::spawn(async move { emitter.emit("spawned.emit").send_async().await });
    let other = center.clone();
    let by_event =
        tokio::spawn(async move { other.emit_event_async(Event::new("spawned.event")).await });
    let other = center.clone();
    let by_json = tokio::spawn(async move {
        other
            .emit_json_async(serde_json::json!({"event_type": "spawned.json"}))
            .await
    });
    by_emitter.await.unwrap();
    by_event.await.unwrap();
    by_json.await.unwrap().unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}
