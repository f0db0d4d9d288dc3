//! `emit_json` (Agently's "dict emit") refuses a bad object with an error that
//! names the bad field and says what was wrong; nothing is delivered. A good
//! object is delivered with the documented defaults.

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, EventErrorKind, Level, Patterns};
use serde_json::{json, Value};

fn center_with_recorder() -> (EventCenter, Arc<Mutex<Vec<Event>>>) {
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("all", Patterns::All, move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();
    (center, seen)
}

fn wrong_type(expected: &'static str, found: &'static str) -> EventErrorKind {
    EventErrorKind::WrongType { expected, found }
}

#[test]
fn each_bad_field_is_named_and_nothing_is_delivered() {
    let (center, seen) = center_with_recorder();
    let cases: Vec<(Value, &str, EventErrorKind)> = vec![
        (
            json!({"level": "INFO"}),
            "event_type",
            EventErrorKind::Missing,
        ),
        (
            json!({"event_type": null}),
            "event_type",
            EventErrorKind::Missing,
        ),
        (
            json!({"event_type": ""}),
            "event_type",
            EventErrorKind::Empty,
        ),
        (
            json!({"event_type": 5}),
            "event_type",
            wrong_type("a string", "a number"),
        ),
        (
            json!({"event_type": "x.y", "level": "LOUD"}),
            "level",
            EventErrorKind::UnknownLevel("LOUD".into()),
        ),
        (
            json!({"event_type": "x.y", "timestamp": "soon"}),
            "timestamp",
            wrong_type("integer Unix milliseconds", "a string"),
        ),
        (
            json!({"event_type": "x.y", "timestamp": 1.5}),
            "timestamp",
            wrong_type("integer Unix milliseconds", "a number"),
        ),
        (
            json!({"event_type": "x.y", "run": {"run_kind": "agent_execution"}}),
            "run.run_id",
            EventErrorKind::Missing,
        ),
        (
            json!({"event_type": "x.y", "run": {"run_id": "r-1"}}),
            "run.run_kind",
            EventErrorKind::Missing,
        ),
        (
            json!({"event_type": "x.y", "run": {"run_id": "r-1", "run_kind": "k", "meta": [1]}}),
            "run.meta",
            wrong_type("a JSON object", "an array"),
        ),
        (
            json!({"event_type": "x.y", "run": "r-1"}),
            "run",
            wrong_type("a JSON object", "a string"),
        ),
        (
            json!({"event_type": "x.y", "error": {"type": "Timeout", "message": "t", "retryable": "yes"}}),
            "error.retryable",
            wrong_type("a boolean", "a string"),
        ),
        (
            json!({"event_type": "x.y", "error": {"message": "t"}}),
            "error.type",
            EventErrorKind::Missing,
        ),
        (
            json!({"event_type": "x.y", "meta": "tenant=demo"}),
            "meta",
            wrong_type("a JSON object", "a string"),
        ),
        (
            json!({"event_type": "x.y", "source": 7}),
            "source",
            wrong_type("a string", "a number"),
        ),
        (
            json!(["event_type", "x.y"]),
            "event",
            wrong_type("a JSON object", "an array"),
        ),
        (
            json!("x.y"),
            "event",
            wrong_type("a JSON object", "a string"),
        ),
        (Value::Null, "event", wrong_type("a JSON object", "null")),
    ];

    for (value, field, kind) in cases {
        let shown = value.to_string();
        let err = center
            .emit_json(value)
            .expect_err(&format!("{shown} must be refused"));
        assert_eq!(err.field(), field, "{shown}");
        assert_eq!(err.kind(), &kind, "{shown}");
        let message = err.to_string();
        if field != "event" {
            assert!(
                message.contains(&format!("`{field}`")),
                "{shown}: {message}"
            );
        }
    }

    assert!(seen.lock().unwrap().is_empty());
    let stats = center.stats();
    assert_eq!(stats.hooks[0].delivered, 0);
    assert_eq!(stats.last_seq, 0);
}

#[test]
fn the_unknown_level_message_lists_the_levels() {
    let center = EventCenter::new();
    let err = center
        .emit_json(json!({"event_type": "x.y", "level": "LOUD"}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "event field `level` is \"LOUD\": use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    );
}

#[tokio::test]
async fn the_async_form_refuses_the_same_way() {
    let (center, seen) = center_with_recorder();
    let err = center
        .emit_json_async(json!({"event_type": "x.y", "timestamp": "soon"}))
        .await
        .unwrap_err();
    assert_eq!(err.field(), "timestamp");
    center
        .emit_json_async(json!({"event_type": "x.y"}))
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_valid_object_is_delivered_with_defaults() {
    let (center, seen) = center_with_recorder();
    center
        .emit_json(json!({"event_type": "custom.thing", "payload": "just a string"}))
        .unwrap();
    center
        .emit_json(json!({
            "event_type": "custom.full",
            "event_id": "ev-0001",
            "source": "Docs",
            "level": "warning",
            "message": "m",
            "run": {"run_id": "run-1", "run_kind": "agent_execution"},
            "error": {"type": "Timeout", "message": "t", "retryable": true},
            "meta": {"k": 1},
            "timestamp": 1_760_000_000_000_i64,
            "custom_field": [1, 2]
        }))
        .unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);

    let plain = &seen[0];
    assert_eq!(plain.event_type.as_str(), "custom.thing");
    assert_eq!(plain.level, Level::Info);
    assert_eq!(plain.source.as_str(), "Agently");
    assert_eq!(plain.payload, json!("just a string"));
    assert_eq!(plain.message, None);
    assert!(plain.error.is_none());
    assert!(plain.run.is_none());
    assert!(plain.meta.is_empty());
    assert!(plain.extra.is_empty());
    assert_eq!(plain.seq, 1);
    let id = plain.event_id.to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert!(
        id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{id}"
    );
    assert_eq!(&id[12..13], "7", "a UUIDv7: {id}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now - plain.timestamp).abs() < 60_000,
        "{}",
        plain.timestamp
    );

    let full = &seen[1];
    assert_eq!(full.event_id.to_string(), "ev-0001");
    assert_eq!(full.source.as_str(), "Docs");
    assert_eq!(full.level, Level::Warning);
    assert_eq!(full.message.as_deref(), Some("m"));
    let run = full.run.as_deref().unwrap();
    assert_eq!(run.run_id, "run-1");
    assert_eq!(run.root_run_id.as_deref(), Some("run-1"));
    assert_eq!(full.error.as_deref().unwrap().retryable, Some(true));
    assert_eq!(full.meta["k"], 1);
    assert_eq!(full.timestamp, 1_760_000_000_000);
    assert_eq!(full.extra["custom_field"], json!([1, 2]));
    assert_eq!(full.seq, 2);
}
