//! A typed hook registered with `center.on::<T>` receives the very value
//! emitted with `emitter.emit_typed(&value)`, together with the stamped
//! event, and no events of other types.

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, Level, RunContext, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Line {
    sku: String,
    quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct OrderCreated {
    order_id: String,
    total_cents: u64,
    lines: Vec<Line>,
    coupon: Option<String>,
}

impl TypedEvent for OrderCreated {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct OrderShipped {
    order_id: String,
}

impl TypedEvent for OrderShipped {
    const EVENT_TYPE: &'static str = "myapp.order.shipped";
}

#[test]
fn the_hook_gets_the_emitted_value_and_its_event() {
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<(Event, OrderCreated)>>> = Arc::default();
    let sink = seen.clone();
    center
        .on::<OrderCreated>("billing", move |event, order| {
            sink.lock().unwrap().push((event.clone(), order));
        })
        .unwrap();
    assert_eq!(center.hook_names(), ["billing"]);

    let order = OrderCreated {
        order_id: "A-17".into(),
        total_cents: 4_200,
        lines: vec![
            Line {
                sku: "tea".into(),
                quantity: 2,
            },
            Line {
                sku: "cup".into(),
                quantity: 1,
            },
        ],
        coupon: None,
    };
    let run = RunContext::new("agent_execution");
    let emitter = center.emitter("Shop").with_meta("tenant", "demo");
    emitter
        .emit_typed(&order)
        .level(Level::Warning)
        .message("order in")
        .run(run.clone())
        .send();
    // Another typed event type does not reach this hook.
    emitter
        .emit_typed(&OrderShipped {
            order_id: "A-17".into(),
        })
        .send();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (event, received) = &seen[0];
    assert_eq!(received, &order);
    assert_eq!(event.event_type, "myapp.order.created");
    assert_eq!(event.source, "Shop");
    assert_eq!(event.level, Level::Warning);
    assert_eq!(event.message.as_deref(), Some("order in"));
    assert_eq!(event.error, None);
    assert_eq!(event.meta.get("tenant"), Some(&json!("demo")));
    assert_eq!(event.run.as_ref().unwrap().run_id, run.run_id);
    assert_eq!(
        event.payload,
        json!({
            "order_id": "A-17",
            "total_cents": 4200,
            "lines": [{"sku": "tea", "quantity": 2}, {"sku": "cup", "quantity": 1}],
            "coupon": null,
        })
    );

    let stats = &center.stats().hooks[0];
    assert_eq!((stats.accepted, stats.delivered, stats.failed), (1, 1, 0));
}

#[test]
fn events_from_the_wire_reach_the_typed_hook_too() {
    // Any emitter of the same JSON (Agently's dict emit, a forwarder) is
    // decoded the same way.
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<OrderShipped>>> = Arc::default();
    let sink = seen.clone();
    center
        .on::<OrderShipped>("tracking", move |_, shipped| {
            sink.lock().unwrap().push(shipped)
        })
        .unwrap();
    center
        .emit_json(json!({
            "event_type": "myapp.order.shipped",
            "source": "Warehouse",
            "payload": {"order_id": "B-2"},
        }))
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [OrderShipped {
            order_id: "B-2".into()
        }]
    );
}
