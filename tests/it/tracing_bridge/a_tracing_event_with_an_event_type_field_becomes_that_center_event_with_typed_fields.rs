use event_center::{EventCenter, EventCenterLayer, Level};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
#[allow(dead_code)]
struct Card {
    last4: u16,
}

#[test]
fn a_tracing_event_with_an_event_type_field_becomes_that_center_event_with_typed_fields() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "orders", "order.*");

    let layer = EventCenterLayer::new(&center).with_source("shop");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::warn!(
            event_type = "order.created",
            order_id = 42u64,
            delta = -3i64,
            amount = 12.5,
            paid = true,
            customer = "ada",
            card = ?Card { last4: 4242 },
            shown = %"display text",
            "order {} created",
            42
        );
        tracing::trace!(event_type = "order.checked", "trace is debug");
    });

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let event = &seen[0];
    assert_eq!(event.event_type, "order.created");
    assert_eq!(event.source, "shop");
    assert_eq!(event.level, Level::Warning);
    assert_eq!(event.message.as_deref(), Some("order 42 created"));
    assert_eq!(
        event.payload,
        json!({
            "order_id": 42,
            "delta": -3,
            "amount": 12.5,
            "paid": true,
            "customer": "ada",
            "card": "Card { last4: 4242 }",
            "shown": "display text",
        })
    );
    assert!(event.payload["order_id"].is_u64());
    assert!(event.payload["amount"].is_f64());
    assert_eq!(event.run, None, "no span, no run");
    assert_eq!(event.meta["tracing"]["target"], module_path!());
    assert_eq!(event.meta["tracing"]["file"], file!());
    assert!(event.meta["tracing"]["line"].is_u64());
    assert!(event.seq > 0);

    assert_eq!(seen[1].event_type, "order.checked");
    assert_eq!(seen[1].level, Level::Debug);
    assert_eq!(seen[1].payload, serde_json::Value::Null);
}
