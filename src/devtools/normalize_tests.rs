//! What the ingest parser keeps, refuses and masks.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::devtools::ingest::{parse_body, Batch};
use crate::devtools::scrub::MAX_NESTING;
use crate::{Event, Redaction};

fn batch(body: &str) -> Batch {
    parse_body(body.as_bytes(), &Redaction::default()).unwrap()
}

/// The stored text of the only event of a body holding `event`.
fn stored(event: &str) -> String {
    let mut batch = batch(&format!("{{\"events\":[{event}]}}"));
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    batch.events.remove(0).json
}

fn refused(event: &str) -> (String, &'static str, String) {
    let batch = batch(&format!(
        "{{\"events\":[{event},{{\"event_type\":\"ok\"}}]}}"
    ));
    assert_eq!(batch.events.len(), 1, "the good event is kept");
    let (index, error) = batch.rejected.into_iter().next().expect("refused");
    assert_eq!(index, 0);
    (error.event_field(), error.kind, error.msg)
}

#[test]
fn numbers_key_order_and_unknown_keys_are_kept_as_written() {
    let text = stored(
        r#"{"event_type":"a.b","payload":{"big":123456789012345678901234567890,"e":1e2,"z":1,"a":-0.0},
            "meta":{"z":1E+2,"a":[1.50]},
            "run":{"run_kind":"k","zeta":1e2,"run_id":"r","meta":{"z":123456789012345678901234567890,"a":2},"extra":{"b":1,"a":2}},
            "error":{"message":"m","type":"E","details":{"n":1e2},"http_status":503},
            "seq":0,"source2":"","big":123456789012345678901234567890}"#,
    );
    for part in [
        r#""payload":{"big":123456789012345678901234567890,"e":1e2,"z":1,"a":-0.0}"#,
        r#""meta":{"z":1E+2,"a":[1.50],"app_id":"default"}"#,
        r#""run":{"run_kind":"k","zeta":1e2,"run_id":"r","meta":{"z":123456789012345678901234567890,"a":2},"extra":{"b":1,"a":2},"root_run_id":"r","parent_run_id":null,"#,
        r#""error":{"message":"m","type":"E","details":{"n":1e2},"http_status":503,"module":null,"#,
        r#""seq":0,"source2":"","big":123456789012345678901234567890}"#,
    ] {
        assert!(text.contains(part), "{part}\nnot in\n{text}");
    }
    // Agently's defaults for what the run and error lack.
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["run"]["agent_id"], Value::Null);
    assert_eq!(value["error"]["details"], json!({"n": 100.0}));
    assert_eq!(value["error"]["retryable"], Value::Null);
    // The library reads the stored text back.
    let event = Event::parse(&text).unwrap();
    assert_eq!(event.run.as_deref().unwrap().root_id(), "r");
}

#[test]
fn a_null_root_run_id_becomes_the_run_id_in_place() {
    let text =
        stored(r#"{"event_type":"a","run":{"root_run_id":null,"run_id":"r","run_kind":"k"}}"#);
    assert!(
        text.contains(
            r#""run":{"root_run_id":"r","run_id":"r","run_kind":"k","parent_run_id":null"#
        ),
        "{text}"
    );
}

#[test]
fn repeated_keys_keep_the_last_value_at_the_first_position() {
    let text = stored(
        r#"{"x":1,"event_type":"first","y":2,"x":3,"event_type":"last","level":7,"level":"warning"}"#,
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["event_type"], "last");
    assert_eq!(value["level"], "WARNING");
    assert!(text.ends_with(r#","x":3,"y":2}"#), "{text}");
}

#[test]
fn a_body_with_250000_unknown_fields_is_parsed_in_linear_time() {
    let wide: String = (0..250_000).map(|i| format!(",\"f{i}\":{i}")).collect();
    let same: String = (0..250_000).map(|i| format!(",\"f\":{i}")).collect();
    let keys: String = (0..250_000).map(|i| format!(",\"k{i}\":[{i}]")).collect();
    let bodies = [
        format!("{{\"events\":[{{\"event_type\":\"a\"{wide}}}]}}"),
        format!("{{\"events\":[{{\"event_type\":\"a\"{same}}}]}}"),
        format!("{{\"events\":[{{\"event_type\":\"a\",\"meta\":{{\"app_id\":\"x\"{keys}}}}}]}}"),
        format!("{{\"events\":[{{\"event_type\":\"a\",\"run\":{{\"run_id\":\"r\",\"run_kind\":\"k\"{keys}}}}}]}}"),
        format!("{{\"events\":[{{\"event_type\":\"a\",\"error\":{{\"type\":\"E\",\"message\":\"m\"{keys}}}}}]}}"),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let started = Instant::now();
        let batch = parse_body(body.as_bytes(), &Redaction::default()).unwrap();
        let took = started.elapsed();
        assert_eq!(batch.events.len(), 1);
        // A wide event is marked for the compact view (250,000 repeats of
        // one key are one field).
        assert_eq!(batch.events[0].compact, i != 1);
        // About 0.3 s unoptimized; the quadratic merge took minutes.
        eprintln!("{} bytes parsed in {took:?}", body.len());
        assert!(
            took < Duration::from_secs(10),
            "{} bytes took {took:?}",
            body.len()
        );
    }
}

/// `depth` arrays nested in the payload.
fn nested_payload(depth: usize) -> String {
    format!(
        "{{\"event_type\":\"a\",\"payload\":{}1{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn nesting_is_refused_exactly_where_serde_json_stops_reading() {
    // The event object counts: Event::parse reads MAX_NESTING levels in all.
    assert!(Event::parse(&nested_payload(MAX_NESTING - 1)).is_ok());
    assert!(Event::parse(&nested_payload(MAX_NESTING)).is_err());
    let text = stored(&nested_payload(MAX_NESTING - 1));
    assert!(Event::parse(&text).is_ok());
    let (field, kind, msg) = refused(&nested_payload(MAX_NESTING));
    assert_eq!((field.as_str(), kind), ("payload", "too_deep"));
    assert!(msg.contains("nested deeper"), "{msg}");
    for (event, field) in [
        (format!("{{\"event_type\":\"a\",\"meta\":{{\"m\":{}}}}}", "[".repeat(200) + &"]".repeat(200)), "meta"),
        (format!("{{\"event_type\":\"a\",\"odd\":{}}}", "[".repeat(100_000) + &"]".repeat(100_000)), "odd"),
        (format!("{{\"event_type\":\"a\",\"run\":{{\"run_id\":\"r\",\"run_kind\":\"k\",\"meta\":{}}}}}", "{\"a\":".repeat(130) + "1" + &"}".repeat(130)), "run"),
        (format!("{{\"event_type\":\"a\",\"token\":{}}}", "[".repeat(130) + &"]".repeat(130)), "token"),
    ] {
        assert_eq!(refused(&event).0, field);
    }
}

#[test]
fn a_lone_surrogate_is_named_as_such() {
    let (field, kind, msg) = refused(r#"{"event_type":"\ud800"}"#);
    assert_eq!((field.as_str(), kind), ("event_type", "string_unicode"));
    assert!(
        msg.contains("not valid Unicode") && msg.contains("lone surrogate"),
        "{msg}"
    );
    let (field, _, msg) =
        refused(r#"{"event_type":"a","run":{"run_id":"r","run_kind":"\udc00x"}}"#);
    assert_eq!(field, "run.run_kind");
    assert!(msg.contains("lone surrogate"), "{msg}");
    let (_, _, msg) = refused(r#"{"event_type":"a","error":{"type":"E","message":"\ud800"}}"#);
    assert!(msg.contains("lone surrogate"), "{msg}");
    let body = parse_body(br#"{"app_id":"\ud800","events":[]}"#, &Redaction::default())
        .err()
        .unwrap();
    assert!(body.msg.contains("not valid Unicode"), "{}", body.msg);
}

#[test]
fn secrets_are_masked_in_every_part_and_nothing_else_changes() {
    let event = r#"{"event_type":"a","message":"password=hunter2 stays: free text","payload":{"api_key":"k1","n":1e2},
        "meta":{"Authorization":"Bearer x","ok":"m"},"run":{"run_id":"r","run_kind":"k","meta":{"client_secret":"c"},"private_key":"p"},
        "error":{"type":"E","message":"m","details":{"cookie":"sid"},"x-api-key":"xk"},"PASSWD":"pw","tokens":7,"token":"t","pwd_set":true}"#;
    let text = stored(event);
    for secret in [
        "k1", "Bearer x", "\"c\"", "\"p\"", "sid", "xk", "\"pw\"", "\"t\"",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    for kept in [
        "password=hunter2 stays: free text",
        "\"n\":1e2",
        "\"ok\":\"m\"",
        "\"tokens\":7",
        "\"pwd_set\":true",
    ] {
        assert!(text.contains(kept), "{kept} not in {text}");
    }
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["run"]["meta"]["client_secret"], "[REDACTED]");
    // The run record takes the masked meta.
    let batch = batch(&format!("{{\"events\":[{event}]}}"));
    assert_eq!(
        batch.events[0].run.as_ref().unwrap().meta["client_secret"],
        "[REDACTED]"
    );
    // Redacting again changes nothing; Redaction::none keeps everything.
    assert_eq!(stored(&text), text);
    let none = parse_body(
        format!("{{\"events\":[{event}]}}").as_bytes(),
        &Redaction::none(),
    )
    .unwrap();
    assert!(none.events[0].json.contains("\"PASSWD\":\"pw\""));
}
