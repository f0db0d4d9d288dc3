//! A payload closure given to `payload_with` is called only when some hook
//! will receive the event (directly, through an alias, or through a mirrored
//! twin), and then exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter};
use serde_json::{json, Value};

fn expensive(calls: &AtomicUsize) -> Value {
    calls.fetch_add(1, Ordering::SeqCst);
    json!({"big": "payload"})
}

#[test]
fn not_called_without_a_hook_and_called_once_with_one() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    let calls = AtomicUsize::new(0);

    // No hook at all.
    emitter
        .emit("model.completed")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // A hook on other types only.
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("models", "model.*", move |e: &Event| {
            sink.lock().unwrap().push(e.payload.clone());
        })
        .unwrap();
    emitter
        .emit("tool.called")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(seen.lock().unwrap().is_empty());

    // A matching hook: called exactly once, and the hook gets its value.
    emitter
        .emit("model.completed")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(*seen.lock().unwrap(), [json!({"big": "payload"})]);

    // Unregistered again: not called any more.
    assert!(center.unregister_hook("models"));
    emitter
        .emit("model.completed")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn called_once_when_only_an_alias_or_a_twin_listens() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    let calls = AtomicUsize::new(0);
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    for (name, pattern) in [("flows", "triggerflow.*"), ("tools", "tool.*")] {
        let sink = seen.clone();
        center
            .register_hook(name, pattern, move |e: &Event| {
                sink.lock()
                    .unwrap()
                    .push((e.event_type.to_string(), e.payload.clone()));
            })
            .unwrap();
    }

    // Reaches `triggerflow.*` through the legacy alias.
    emitter
        .emit("workflow.execution_started")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Reaches `tool.*` only through its twin: built once, shared by the twin.
    emitter
        .emit("action.loop_started")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Neither.
    emitter
        .emit("action.started")
        .payload_with(|| expensive(&calls))
        .send();
    emitter
        .emit("workflow.custom_step")
        .payload_with(|| expensive(&calls))
        .send();
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    assert_eq!(
        *seen.lock().unwrap(),
        [
            (
                "workflow.execution_started".to_owned(),
                json!({"big": "payload"})
            ),
            ("tool.loop_started".to_owned(), json!({"big": "payload"})),
        ]
    );
}

#[tokio::test]
async fn the_async_send_calls_it_the_same_way() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    let calls = AtomicUsize::new(0);

    emitter
        .emit("model.completed")
        .payload_with(|| expensive(&calls))
        .send_async()
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    center
        .register_async_hook("models", "model.*", |_: Arc<Event>| async {})
        .unwrap();
    emitter
        .emit("model.completed")
        .payload_with(|| expensive(&calls))
        .send_async()
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
