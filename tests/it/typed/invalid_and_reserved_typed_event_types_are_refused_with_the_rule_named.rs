//! `on::<T>` refuses a type whose event type is not a namespaced string of
//! dot-separated lowercase segments, or lies in the center's own
//! `event_center.` namespace, or asks for coalescing delivery: the error
//! names the type string, the Rust type and the rule, and nothing is
//! registered.

use std::any::type_name;

use event_center::{
    CoalescePolicy, Delivery, EventCenter, HookOptions, TypedError, TypedErrorKind, TypedEvent,
};
use serde::{Deserialize, Serialize};

macro_rules! typed {
    ($name:ident, $event_type:expr) => {
        #[derive(Serialize, Deserialize)]
        struct $name {
            value: u32,
        }
        impl TypedEvent for $name {
            const EVENT_TYPE: &'static str = $event_type;
        }
    };
}

typed!(Empty, "");
typed!(NoNamespace, "created");
typed!(DoubleDot, "myapp..created");
typed!(TrailingDot, "myapp.created.");
typed!(Uppercase, "MyApp.OrderCreated");
typed!(Hyphen, "myapp.order-created");
typed!(Glob, "myapp.*");
typed!(Reserved, "event_center.hook_failed");
typed!(Fine, "myapp.order.created");

fn refuse<T: TypedEvent>(center: &EventCenter) -> TypedError {
    let err = center.on::<T>("hook", |_, _| {}).unwrap_err();
    assert_eq!(err.event_type(), T::EVENT_TYPE);
    assert_eq!(err.type_name(), type_name::<T>());
    assert!(err.to_string().contains(type_name::<T>()), "{err}");
    err
}

#[test]
fn each_broken_rule_is_named() {
    let center = EventCenter::new();
    let cases = [
        (
            refuse::<Empty>(&center),
            TypedErrorKind::EmptyEventType,
            "is empty",
        ),
        (
            refuse::<NoNamespace>(&center),
            TypedErrorKind::MissingNamespace,
            "no namespace",
        ),
        (
            refuse::<DoubleDot>(&center),
            TypedErrorKind::EmptySegment,
            "empty segment",
        ),
        (
            refuse::<TrailingDot>(&center),
            TypedErrorKind::EmptySegment,
            "empty segment",
        ),
        (
            refuse::<Uppercase>(&center),
            TypedErrorKind::InvalidCharacter('M'),
            "'M'",
        ),
        (
            refuse::<Hyphen>(&center),
            TypedErrorKind::InvalidCharacter('-'),
            "'-'",
        ),
        (
            refuse::<Glob>(&center),
            TypedErrorKind::InvalidCharacter('*'),
            "'*'",
        ),
        (
            refuse::<Reserved>(&center),
            TypedErrorKind::ReservedNamespace,
            "reserved",
        ),
    ];
    for (err, kind, words) in cases {
        assert_eq!(err.kind(), &kind, "{err}");
        let message = err.to_string();
        assert!(message.contains(words), "{message}");
        if !matches!(kind, TypedErrorKind::EmptyEventType) {
            assert!(message.contains(err.event_type()), "{message}");
        }
    }
    // The message says what to do.
    assert!(refuse::<NoNamespace>(&center)
        .to_string()
        .contains("`myapp.created`"));
    assert!(refuse::<Uppercase>(&center)
        .to_string()
        .contains("lowercase ASCII letters, digits and `_`"));
    assert!(center.hook_names().is_empty());
    assert!(center.stats().hooks.is_empty());
}

#[test]
fn coalescing_delivery_is_refused() {
    let center = EventCenter::new();
    let options = HookOptions::new().with_delivery(Delivery::coalesce(CoalescePolicy::new()));
    let err = center
        .on_with::<Fine>("ui", options, |_, _| {})
        .unwrap_err();
    assert_eq!(err.kind(), &TypedErrorKind::CoalescedDelivery);
    assert!(err.to_string().contains("Background"), "{err}");
    assert!(center.hook_names().is_empty());
    // A valid type with an accepted delivery registers.
    center.on::<Fine>("ok", |_, _| {}).unwrap();
    assert_eq!(center.hook_names(), ["ok"]);
}
