//! Inside an async capture, `send_async`, `emit_event_async` and
//! `emit_json_async` are collected like `send`, listened to or not, and a
//! listened event is the very event the hooks got.

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter};
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn every_async_emit_path_is_captured() {
    let center = EventCenter::new();
    let heard: Arc<Mutex<Vec<Arc<Event>>>> = Arc::default();
    let sink = heard.clone();
    center
        .register_async_hook("heard", "heard.*", move |e: Arc<Event>| {
            let sink = sink.clone();
            async move { sink.lock().unwrap().push(e) }
        })
        .unwrap();
    let emitter = center.emitter("Tool");

    let captured = center
        .capture(async {
            emitter.emit("heard.send_async").send_async().await;
            emitter.emit("silent.send_async").send_async().await;
            center.emit_event_async(Event::new("heard.event")).await;
            center.emit_event_async(Event::new("silent.event")).await;
            center
                .emit_json_async(json!({"event_type": "heard.json"}))
                .await
                .unwrap();
            center
                .emit_json_async(json!({"event_type": "silent.json"}))
                .await
                .unwrap();
        })
        .await;

    let types: Vec<_> = captured
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "heard.send_async",
            "silent.send_async",
            "heard.event",
            "silent.event",
            "heard.json",
            "silent.json",
        ]
    );
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len(), 3);
    assert!(Arc::ptr_eq(&heard[0], &captured.events[0]));
    assert!(Arc::ptr_eq(&heard[2], &captured.events[4]));
}
