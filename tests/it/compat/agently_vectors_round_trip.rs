//! Events captured from Agently parse into `Event` and serialize back to the
//! same JSON; DevTools ingest events (only `event_type` required) take the
//! documented defaults.

use event_center::{Event, Level};
use serde_json::Value;

const AGENTLY_EVENTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/agently_events.jsonl"
));
const INGEST_SAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/devtools_ingest_sample.json"
));

#[test]
fn every_agently_line_round_trips_to_an_equal_json_object() {
    let mut lines = 0;
    for (number, line) in AGENTLY_EVENTS.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let original: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {}: not JSON: {e}", number + 1));
        let event: Event = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| panic!("line {}: does not parse: {e}", number + 1));
        assert_eq!(
            event.event_type.as_str(),
            original["event_type"].as_str().unwrap(),
            "line {}",
            number + 1
        );
        assert_eq!(
            event.event_id.to_string(),
            original["event_id"].as_str().unwrap(),
            "line {}",
            number + 1
        );
        let back = serde_json::to_value(&event).unwrap();
        assert_eq!(back, original, "line {} does not round trip", number + 1);

        // The text form round trips too (Event::parse and serde_json text).
        let reparsed = Event::parse(line).unwrap();
        assert_eq!(reparsed, event, "line {}", number + 1);
        let text = serde_json::to_string(&event).unwrap();
        let again: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(again, original, "line {}", number + 1);
    }
    assert_eq!(lines, 21, "the vector file holds 21 events");
}

#[test]
fn agently_vectors_keep_their_typed_fields() {
    let events: Vec<Event> = AGENTLY_EVENTS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Event::parse(l).unwrap())
        .collect();

    let debug = &events[2];
    assert_eq!(debug.level, Level::Debug);
    assert_eq!(debug.payload, serde_json::json!([1, 2, 3]));

    let warning = &events[3];
    assert_eq!(warning.level, Level::Warning);
    assert_eq!(warning.meta.get("k"), Some(&Value::Null));

    let error = events[4].error.as_deref().unwrap();
    assert_eq!(error.error_type, "ValueError");
    assert_eq!(error.message, "bad value ünïcode");
    assert_eq!(error.module.as_deref(), Some("builtins"));

    let child = events[6].run.as_deref().unwrap();
    assert_eq!(child.run_kind, "model_request");
    assert_eq!(
        child.parent_run_id.as_deref(),
        Some("cce16a03a96d49feb07a36cff1d25a28")
    );
    assert_eq!(
        child.root_run_id.as_deref(),
        Some("cce16a03a96d49feb07a36cff1d25a28")
    );

    let twins: Vec<&Event> = events.iter().filter(|e| e.is_compat_twin()).collect();
    assert_eq!(twins.len(), 4);
    assert!(twins.iter().all(|e| e.event_type.starts_with("tool.")));

    let custom = events.last().unwrap();
    let error = custom.error.as_deref().unwrap();
    assert_eq!(error.retryable, Some(true));
    assert_eq!(error.code.as_deref(), Some("E42"));
    assert_eq!(error.details["x"], 1);
}

#[test]
fn devtools_ingest_events_parse_with_defaults() {
    let body: Value = serde_json::from_str(INGEST_SAMPLE).unwrap();
    let raw = body["events"].as_array().unwrap();
    assert_eq!(raw.len(), 7);
    let events: Vec<Event> = raw
        .iter()
        .map(|v| Event::from_json(v.clone()).unwrap())
        .collect();

    // Ids in another shape are kept verbatim.
    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(
        ids,
        ["ev-0001", "ev-0002", "ev-0003", "ev-0004", "ev-0005", "ev-0006", "ev-0007"]
    );
    assert!(events.iter().all(|e| e.source.as_str() == "RustClient"));

    // Level defaults to INFO; a given level is kept.
    let levels: Vec<Level> = events.iter().map(|e| e.level).collect();
    assert_eq!(
        levels,
        [
            Level::Info,
            Level::Info,
            Level::Info,
            Level::Info,
            Level::Info,
            Level::Info,
            Level::Error
        ]
    );

    // Missing message, payload, error and meta take their defaults.
    let requesting = &events[1];
    assert_eq!(requesting.message, None);
    assert_eq!(requesting.payload, Value::Null);
    assert!(requesting.error.is_none());
    assert!(requesting.meta.is_empty());
    assert!(requesting.extra.is_empty());
    assert_eq!(requesting.timestamp, 1_760_000_000_100);

    // root_run_id defaults to run_id when absent, and is kept when given.
    let root = events[0].run.as_deref().unwrap();
    assert_eq!(root.run_id, "run-root");
    assert_eq!(root.root_run_id.as_deref(), Some("run-root"));
    assert_eq!(root.parent_run_id, None);
    assert_eq!(root.agent_name.as_deref(), Some("demo"));
    assert!(root.meta.is_empty());
    let loop_started = events[3].run.as_deref().unwrap();
    assert_eq!(loop_started.root_run_id.as_deref(), Some("run-root"));
    let child = requesting.run.as_deref().unwrap();
    assert_eq!(child.run_id, "run-child");
    assert_eq!(child.root_run_id.as_deref(), Some("run-root"));
    assert_eq!(child.parent_run_id.as_deref(), Some("run-root"));

    // The twin keeps its compat meta.
    assert!(events[4].is_compat_twin());
    assert_eq!(events[4].meta["primary_event_id"], "ev-0004");
    assert!(!events[3].is_compat_twin());

    // An error without the optional ErrorInfo fields gets their defaults.
    let failed = &events[6];
    assert_eq!(failed.message.as_deref(), Some("boom"));
    let error = failed.error.as_deref().unwrap();
    assert_eq!(error.error_type, "RuntimeError");
    assert_eq!(error.message, "boom");
    assert_eq!(error.module, None);
    assert_eq!(error.traceback, None);
    assert_eq!(error.retryable, None);
    assert_eq!(error.fatal, None);
    assert_eq!(error.code, None);
    assert!(error.details.is_empty());

    // Serialized again, the defaults are written out in Agently's full shape.
    let wire = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(wire["level"], "INFO");
    assert_eq!(wire["message"], Value::Null);
    assert_eq!(wire["error"], Value::Null);
    assert_eq!(wire["meta"], serde_json::json!({}));
    assert_eq!(wire["run"]["root_run_id"], "run-root");
    assert_eq!(wire["run"]["session_id"], Value::Null);
}

#[test]
fn an_event_with_only_event_type_gets_every_default() {
    let event =
        Event::from_json(serde_json::json!({"event_type": "agent_execution.started"})).unwrap();
    assert_eq!(event.source.as_str(), "Agently");
    assert_eq!(event.level, Level::Info);
    assert_eq!(event.run, None);
    let id = event.event_id.to_string();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(event.timestamp > 1_700_000_000_000);
}

#[test]
fn unknown_top_level_fields_are_kept() {
    let original = serde_json::json!({
        "event_id": "bb66fc335fd541758bb8f850568180f3",
        "event_type": "x.y",
        "source": "S",
        "level": "INFO",
        "message": null,
        "payload": null,
        "error": null,
        "run": null,
        "meta": {},
        "timestamp": 1,
        "trace_id": "abc",
        "nested": {"k": [1, 2]}
    });
    let event = Event::from_json(original.clone()).unwrap();
    assert_eq!(event.extra["trace_id"], "abc");
    assert_eq!(serde_json::to_value(&event).unwrap(), original);
}
