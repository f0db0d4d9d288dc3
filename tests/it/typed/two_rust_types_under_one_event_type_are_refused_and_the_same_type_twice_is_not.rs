//! On one center, an event type string stands for one Rust type: registering
//! a hook for a second type under it is a `TypeConflict` naming both types,
//! while more hooks for the same type are fine. The binding outlives the
//! hooks (it is a fact of the program), and centers do not share bindings.

use std::any::type_name;

use event_center::{EventCenter, RegisterErrorKind, TypedErrorKind, TypedEvent};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct OrderCreated {
    order_id: String,
}

impl TypedEvent for OrderCreated {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

/// Another crate's idea of the same event type.
#[derive(Serialize, Deserialize)]
struct LegacyOrderCreated {
    id: u64,
}

impl TypedEvent for LegacyOrderCreated {
    const EVENT_TYPE: &'static str = "myapp.order.created";
}

#[test]
fn a_second_type_is_refused_and_the_same_type_is_not() {
    let center = EventCenter::new();
    center.on::<OrderCreated>("billing", |_, _| {}).unwrap();
    center.on::<OrderCreated>("audit", |_, _| {}).unwrap();

    let err = center
        .on::<LegacyOrderCreated>("legacy", |_, _| {})
        .unwrap_err();
    assert_eq!(err.event_type(), "myapp.order.created");
    assert_eq!(err.type_name(), type_name::<LegacyOrderCreated>());
    assert_eq!(
        err.kind(),
        &TypedErrorKind::TypeConflict {
            registered: type_name::<OrderCreated>()
        }
    );
    let message = err.to_string();
    assert!(message.contains(type_name::<OrderCreated>()), "{message}");
    assert!(
        message.contains(type_name::<LegacyOrderCreated>()),
        "{message}"
    );
    assert!(message.contains("myapp.order.created"), "{message}");
    // Nothing was registered for the refused type.
    assert_eq!(center.hook_names(), ["billing", "audit"]);
}

#[test]
fn the_binding_outlives_its_hooks_and_stays_on_its_center() {
    let center = EventCenter::new();
    center.on::<OrderCreated>("billing", |_, _| {}).unwrap();
    assert!(center.unregister_hook("billing"));
    assert!(center.hook_names().is_empty());
    let err = center
        .on::<LegacyOrderCreated>("legacy", |_, _| {})
        .unwrap_err();
    assert!(matches!(err.kind(), TypedErrorKind::TypeConflict { .. }));
    // The same type again is still fine.
    center.on::<OrderCreated>("billing", |_, _| {}).unwrap();

    // Another center binds the string independently.
    let other = EventCenter::new();
    other.on::<LegacyOrderCreated>("legacy", |_, _| {}).unwrap();
    assert_eq!(other.hook_names(), ["legacy"]);
}

#[test]
fn a_taken_hook_name_is_a_register_error_and_binds_nothing() {
    let center = EventCenter::new();
    center
        .register_hook("billing", "*", |_: &event_center::Event| {})
        .unwrap();
    let err = center.on::<OrderCreated>("billing", |_, _| {}).unwrap_err();
    match err.kind() {
        TypedErrorKind::Register(e) => {
            assert_eq!(e.name(), "billing");
            assert_eq!(e.kind(), &RegisterErrorKind::DuplicateName);
        }
        other => panic!("expected a register error, got {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
    // The failed registration bound nothing: the other type is still free.
    center
        .on::<LegacyOrderCreated>("legacy", |_, _| {})
        .unwrap();
}
