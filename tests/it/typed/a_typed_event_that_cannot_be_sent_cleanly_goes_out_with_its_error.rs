//! `emit_typed` never panics and never drops the event: a value that does
//! not serialize goes out with a null payload, a type string that breaks the
//! rules goes out as it is, and either way the event carries level ERROR and
//! an error naming the Rust type, the event type and what was wrong.

use std::any::type_name;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, Level, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A map with non-string keys: JSON cannot hold it.
#[derive(Serialize, Deserialize)]
struct SeatMap {
    seats: BTreeMap<(u8, u8), String>,
}

impl TypedEvent for SeatMap {
    const EVENT_TYPE: &'static str = "myapp.seats.assigned";
}

#[derive(Serialize, Deserialize)]
struct Shouting {
    volume: u8,
}

impl TypedEvent for Shouting {
    const EVENT_TYPE: &'static str = "MyApp.Shout";
}

fn record(center: &EventCenter, pattern: &'static str) -> Arc<Mutex<Vec<Event>>> {
    crate::support::record(center, pattern, pattern)
}

#[test]
fn an_unserializable_value_goes_out_with_a_null_payload_and_the_serde_error() {
    let center = EventCenter::new();
    let seen = record(&center, "myapp.*");
    let value = SeatMap {
        seats: BTreeMap::from([((1, 2), "ada".to_owned())]),
    };
    center
        .emitter("Booking")
        .emit_typed(&value)
        .message("seats")
        .send();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "the event is not lost");
    let event = &seen[0];
    assert_eq!(event.event_type, "myapp.seats.assigned");
    assert_eq!(event.message.as_deref(), Some("seats"));
    assert_eq!(event.payload, Value::Null);
    assert_eq!(event.level, Level::Error);
    let error = event.error.as_ref().expect("the event carries the error");
    assert_eq!(error.error_type, "TypedError");
    assert_eq!(error.code.as_deref(), Some("typed_event_unserializable"));
    for needle in [
        type_name::<SeatMap>(),
        "myapp.seats.assigned",
        "key must be a string",
    ] {
        assert!(
            error.message.contains(needle),
            "`{needle}` not in: {}",
            error.message
        );
    }
}

#[test]
fn a_type_string_that_breaks_the_rules_goes_out_with_its_payload_and_the_rule() {
    let center = EventCenter::new();
    let seen = record(&center, "*");
    center
        .emitter("Agent")
        .emit_typed(&Shouting { volume: 11 })
        .send();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let event = &seen[0];
    assert_eq!(event.event_type, "MyApp.Shout");
    assert_eq!(event.payload, json!({"volume": 11}));
    assert_eq!(event.level, Level::Error);
    let error = event.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("typed_event_invalid_type"));
    assert!(error.message.contains("'M'"), "{}", error.message);
    assert!(
        error.message.contains(type_name::<Shouting>()),
        "{}",
        error.message
    );
}
