//! An event whose payload does not deserialize into the hook's type does not
//! reach the typed hook: it counts as that hook's failure in
//! `center.stats()` and is reported as `event_center.hook_failed`, whose
//! error names the Rust type, the event type and the serde error. Pattern
//! hooks still receive the event as it was.

use std::any::type_name;
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct OrderCreated {
    order_id: String,
    total_cents: u64,
}

impl TypedEvent for OrderCreated {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

#[test]
fn the_typed_hook_is_skipped_counted_and_reported() {
    let center = EventCenter::new();
    let typed: Arc<Mutex<Vec<OrderCreated>>> = Arc::default();
    let sink = typed.clone();
    center
        .on::<OrderCreated>("billing", move |_, order| sink.lock().unwrap().push(order))
        .unwrap();
    let raw: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = raw.clone();
    center
        .register_hook("raw", "myapp.*", move |e: &Event| {
            sink.lock().unwrap().push(e.payload.clone())
        })
        .unwrap();
    let reports = crate::support::record(&center, "failures", "event_center.hook_failed");

    // A missing field, then a field of the wrong type.
    let missing = json!({"order_id": "A-17"});
    let wrong = json!({"order_id": "A-18", "total_cents": "lots"});
    for payload in [&missing, &wrong] {
        center
            .emit_json(json!({"event_type": "myapp.order.created", "payload": payload}))
            .unwrap();
    }
    // A good one still goes through.
    center
        .emit_json(json!({
            "event_type": "myapp.order.created",
            "payload": {"order_id": "A-19", "total_cents": 5},
        }))
        .unwrap();

    assert_eq!(
        *typed.lock().unwrap(),
        [OrderCreated {
            order_id: "A-19".into(),
            total_cents: 5
        }]
    );
    // The pattern hook saw all three, untouched.
    assert_eq!(
        *raw.lock().unwrap(),
        [
            missing,
            wrong,
            json!({"order_id": "A-19", "total_cents": 5})
        ]
    );

    let stats = center.stats();
    let billing = stats.hooks.iter().find(|h| h.name == "billing").unwrap();
    assert_eq!(
        (billing.accepted, billing.delivered, billing.failed),
        (3, 1, 2)
    );
    assert_eq!(stats.hook_failures, 2);

    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 2);
    for (report, serde_error) in reports.iter().zip([
        "missing field `total_cents`",
        "invalid type: string \"lots\"",
    ]) {
        assert_eq!(report.payload["hook"], "billing");
        assert_eq!(report.payload["event_type"], "myapp.order.created");
        let error = report.error.as_ref().expect("the report carries the error");
        for needle in [
            type_name::<OrderCreated>(),
            "myapp.order.created",
            serde_error,
        ] {
            assert!(
                error.message.contains(needle),
                "`{needle}` not in: {}",
                error.message
            );
        }
        let message = report.message.as_deref().unwrap();
        assert!(message.contains(serde_error), "{message}");
    }
}

#[test]
fn a_typed_event_from_another_emitter_that_does_not_fit_is_reported_the_same_way() {
    // Event::typed, for pattern hooks, names the same things.
    let event = Event::new("myapp.order.created").with_payload(json!({"order_id": 7}));
    let err = event.typed::<OrderCreated>().unwrap_err();
    let message = err.to_string();
    assert_eq!(err.event_type(), "myapp.order.created");
    assert!(message.contains(type_name::<OrderCreated>()), "{message}");
    assert!(message.contains("invalid type: integer `7`"), "{message}");
}
