//! Bytes as an Agently-shaped JSON event.
//!
//! `Event::parse`, `Event::from_json` and `EventCenter::emit_json` return an
//! event or a typed `EventError` whose `Display` works, never a panic; the
//! three agree with each other; and every event a hook receives serializes
//! to a wire form that parses back to the same wire form (the round trip the
//! Agently vectors test guarantees for events already in wire form).
//!
//! Any panic aborts the run (libfuzzer-sys installs an aborting panic hook),
//! so an assertion failing inside a hook is a crash too, not a counted hook
//! failure.

#![no_main]

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, EventError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let parsed = Event::parse(text);
    if let Err(error) = &parsed {
        describe(error);
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        let error = parsed.expect_err("Event::parse accepted text that is not JSON");
        assert_eq!(
            error.field(),
            "event",
            "not-JSON text must name the whole event"
        );
        return;
    };

    let from_json = Event::from_json(value.clone());
    match (&parsed, &from_json) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "Event::parse and Event::from_json disagree"),
        _ => panic!("Event::parse and Event::from_json disagree: {parsed:?} vs {from_json:?}"),
    }
    if let Ok(event) = &from_json {
        assert_eq!(
            Some(event.event_type.as_str()),
            value.get("event_type").and_then(Value::as_str),
            "event_type is kept as given"
        );
        assert_wire_round_trips(event);
    }

    let center = EventCenter::new();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    center
        .register_hook("round-trip", "*", move |event: &Event| {
            assert_wire_round_trips(event);
            log.lock().unwrap().push(event.event_type.to_string());
        })
        .expect("a valid hook registers");
    center
        .register_hook(
            "families",
            [
                "triggerflow.*",
                "tool.*",
                "action.loop_?*",
                "model.completed",
            ],
            |event: &Event| {
                serde_json::to_string(event).expect("an event serializes");
            },
        )
        .expect("a valid hook registers");

    match center.emit_json(value) {
        Ok(()) => {
            let expected = from_json.expect("emit_json accepted what from_json rejected");
            let seen = seen.lock().unwrap();
            assert_eq!(
                seen.first().map(String::as_str),
                Some(expected.event_type.as_str()),
                "the `*` hook receives the emitted event first"
            );
        }
        Err(error) => {
            describe(&error);
            assert_eq!(
                Some(&error),
                from_json.as_ref().err(),
                "emit_json and Event::from_json disagree"
            );
            assert!(
                seen.lock().unwrap().is_empty(),
                "a rejected event was delivered"
            );
        }
    }
    assert_eq!(center.stats().hook_failures, 0, "a fuzz hook failed");
});

/// An error must format, and name the field it is about.
fn describe(error: &EventError) {
    let text = error.to_string();
    assert!(!text.is_empty());
    assert!(!error.field().is_empty());
    let _ = format!("{error:?} {:?}", error.kind());
}

/// The wire form of an event parses back into an event with the same wire
/// form.
fn assert_wire_round_trips(event: &Event) {
    let wire = serde_json::to_value(event).expect("an event serializes");
    let back = Event::from_json(wire.clone())
        .unwrap_or_else(|e| panic!("the wire form of an event does not parse: {e}\n{wire}"));
    let again = serde_json::to_value(&back).expect("an event serializes");
    assert_eq!(again, wire, "the wire form does not round trip");
    let text = serde_json::to_string(event).expect("an event serializes");
    let reparsed = Event::parse(&text)
        .unwrap_or_else(|e| panic!("the wire text of an event does not parse: {e}\n{text}"));
    assert_eq!(
        reparsed, back,
        "the wire text and the wire value parse differently"
    );
}
