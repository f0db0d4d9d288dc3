//! `emit_typed` serializes its value only when some hook will receive the
//! event (a typed hook or a pattern hook), and then exactly once, whether
//! sent with `send` or `send_async`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, TypedEvent};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

static SERIALIZED: AtomicUsize = AtomicUsize::new(0);

/// Counts how often it is serialized.
struct Counted(u32);

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SERIALIZED.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(Counted)
    }
}

impl TypedEvent for Counted {
    const EVENT_TYPE: &'static str = "myapp.counted.happened";
}

fn serialized() -> usize {
    SERIALIZED.load(Ordering::SeqCst)
}

#[tokio::test]
async fn serialized_only_with_a_listener_and_then_once() {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");

    // Nobody listens at all.
    emitter.emit_typed(&Counted(1)).send();
    emitter.emit_typed(&Counted(1)).send_async().await;
    assert_eq!(serialized(), 0);

    // Hooks on other types only.
    center
        .register_hook("models", "model.*", |_: &Event| {})
        .unwrap();
    emitter.emit_typed(&Counted(2)).send();
    emitter.emit_typed(&Counted(2)).send_async().await;
    assert_eq!(serialized(), 0);

    // A pattern hook: serialized once per emit.
    let payloads: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = payloads.clone();
    center
        .register_hook("mine", "myapp.*", move |e: &Event| {
            sink.lock().unwrap().push(e.payload.clone())
        })
        .unwrap();
    emitter.emit_typed(&Counted(3)).send();
    assert_eq!(serialized(), 1);
    emitter.emit_typed(&Counted(4)).send_async().await;
    assert_eq!(serialized(), 2);
    assert_eq!(*payloads.lock().unwrap(), [json!(3), json!(4)]);

    // A typed hook beside it: still once per emit.
    let values: Arc<Mutex<Vec<u32>>> = Arc::default();
    let sink = values.clone();
    center
        .on::<Counted>("typed", move |_, c| sink.lock().unwrap().push(c.0))
        .unwrap();
    emitter.emit_typed(&Counted(5)).send();
    assert_eq!(serialized(), 3);
    assert_eq!(*values.lock().unwrap(), [5]);

    // Everyone gone: no more serialization.
    assert!(center.unregister_hook("mine"));
    assert!(center.unregister_hook("typed"));
    emitter.emit_typed(&Counted(6)).send();
    emitter.emit_typed(&Counted(6)).send_async().await;
    assert_eq!(serialized(), 3);
}
