//! Inside a capture, `emit_typed` serializes its value even when no hook
//! listens: the captured event carries the payload, not `null`.

use event_center::{EventCenter, TypedEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct OrderCreated {
    order_id: String,
    total_cents: u64,
}

impl TypedEvent for OrderCreated {
    const EVENT_TYPE: &'static str = "shop.order.created";
}

#[test]
fn a_typed_event_nobody_listens_to_is_captured_with_its_payload() {
    let center = EventCenter::new();
    let emitter = center.emitter("Shop");
    let order = OrderCreated {
        order_id: "o-1".into(),
        total_cents: 4_200,
    };
    let captured = center.capture_sync(|| emitter.emit_typed(&order).send());
    assert_eq!(captured.events.len(), 1);
    let event = &captured.events[0];
    assert_eq!(event.event_type, "shop.order.created");
    assert_eq!(event.typed::<OrderCreated>().unwrap(), Some(order));

    // Outside the capture nothing is built, and nothing is collected later.
    emitter
        .emit_typed(&OrderCreated {
            order_id: "o-2".into(),
            total_cents: 1,
        })
        .send();
    let later = center.capture_sync(|| ());
    assert!(later.events.is_empty());
}
