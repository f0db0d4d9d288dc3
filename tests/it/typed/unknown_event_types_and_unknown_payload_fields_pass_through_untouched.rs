//! Typed hooks subscribe by their exact type string only: events of types
//! nobody declared reach pattern hooks untouched, and payload fields a type
//! does not declare survive the round trip emit -> hook -> serialize, while
//! the typed hook gets its struct (and the whole event beside it).

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct OrderCreated {
    order_id: String,
    total_cents: u64,
}

impl TypedEvent for OrderCreated {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

/// The same event, keeping what it does not know.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct OrderCreatedKeepingExtras {
    order_id: String,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl TypedEvent for OrderCreatedKeepingExtras {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

/// Serializes what every pattern hook saw, without the `seq` the center adds.
fn wire(seen: &Mutex<Vec<Event>>) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|event| {
            let mut value = serde_json::to_value(event).unwrap();
            let seq = value.as_object_mut().unwrap().remove("seq");
            assert!(seq.is_some_and(|s| s.as_u64() > Some(0)));
            value
        })
        .collect()
}

fn agently_event(event_type: &str, payload: Value) -> Value {
    json!({
        "event_id": "0192f0c4a1b27c3d8e9fa0b1c2d3e4f5",
        "event_type": event_type,
        "source": "Checkout",
        "level": "INFO",
        "message": "from elsewhere",
        "payload": payload,
        "error": null,
        "run": null,
        "meta": {"tenant": "demo"},
        "timestamp": 1_795_316_147_116_i64,
        "vendor_field": {"kept": true},
    })
}

#[test]
fn unknown_types_and_unknown_fields_pass_through() {
    let center = EventCenter::new();
    let typed: Arc<Mutex<Vec<(Value, OrderCreated)>>> = Arc::default();
    let sink = typed.clone();
    center
        .on::<OrderCreated>("billing", move |event, order| {
            sink.lock().unwrap().push((event.payload.clone(), order))
        })
        .unwrap();
    let seen = crate::support::record(&center, "everything", "*");

    let unknown = agently_event(
        "otherapp.thing.happened",
        json!({"anything": [1, 2.5, "three", null]}),
    );
    let payload = json!({
        "order_id": "A-17",
        "total_cents": 4200,
        "coupon": {"code": "SPRING", "percent": 10},
        "notes": ["gift"],
    });
    let known = agently_event("myapp.order.created", payload.clone());
    center.emit_json(unknown.clone()).unwrap();
    center.emit_json(known.clone()).unwrap();

    // The pattern hook saw both exactly as they came in.
    assert_eq!(wire(&seen), [unknown, known]);

    // The typed hook saw only its type: the struct, and the whole payload.
    let typed = typed.lock().unwrap();
    assert_eq!(typed.len(), 1);
    assert_eq!(typed[0].0, payload);
    assert_eq!(
        typed[0].1,
        OrderCreated {
            order_id: "A-17".into(),
            total_cents: 4200
        }
    );
    let billing = &center.stats().hooks[0];
    assert_eq!((billing.accepted, billing.failed), (1, 0));
}

#[test]
fn a_type_that_keeps_its_extras_re_emits_them_unchanged() {
    let center = EventCenter::new();
    let received: Arc<Mutex<Vec<OrderCreatedKeepingExtras>>> = Arc::default();
    let sink = received.clone();
    center
        .on::<OrderCreatedKeepingExtras>("relay", move |_, order| sink.lock().unwrap().push(order))
        .unwrap();
    let payload = json!({
        "order_id": "A-17",
        "total_cents": 4200,
        "coupon": {"code": "SPRING", "percent": 10},
    });
    center
        .emit_json(json!({"event_type": "myapp.order.created", "payload": payload.clone()}))
        .unwrap();
    let order = received.lock().unwrap().pop().unwrap();
    assert_eq!(order.extra["coupon"]["code"], "SPRING");

    // Emitting the struct again gives the same payload.
    let out = EventCenter::new();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = seen.clone();
    out.register_hook("sink", "myapp.*", move |e: &Event| {
        sink.lock().unwrap().push(e.payload.clone())
    })
    .unwrap();
    out.emitter("Relay").emit_typed(&order).send();
    assert_eq!(*seen.lock().unwrap(), [payload]);
}
