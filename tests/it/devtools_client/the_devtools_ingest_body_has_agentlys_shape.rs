//! The body a batch is posted as is the shape of the ingest sample in tests/vectors:
//! `{app_id, group_id, environment, events: [<Agently event JSON>...]}`,
//! each event carrying every field the sample gives it, with its value.

use std::sync::Arc;

use event_center::{DevtoolsForwarder, Event, EventCenter};
use serde_json::Value;

const SAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/devtools_ingest_sample.json"
));

/// Whether every field of `expected` is in `actual` with the same value
/// (objects compared field by field, recursively).
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(key, value)| a.get(key).is_some_and(|found| contains(found, value))),
        _ => actual == expected,
    }
}

#[test]
fn the_devtools_ingest_body_has_agentlys_shape() {
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let events: Vec<Arc<Event>> = sample["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Arc::new(Event::from_json(e.clone()).unwrap()))
        .collect();
    let center = EventCenter::new();
    let forwarder = DevtoolsForwarder::builder("http://127.0.0.1:9")
        .with_app_id("rust-anchor")
        .with_group_id("g1")
        .with_environment("test")
        .with_flush_timeout(std::time::Duration::ZERO)
        .register(&center, "devtools")
        .unwrap();

    let body: Value = serde_json::from_slice(&forwarder.ingest_body(&events)).unwrap();

    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys: Vec<&str> = sample
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    expected_keys.sort_unstable();
    assert_eq!(sorted, expected_keys);
    for key in ["app_id", "group_id", "environment"] {
        assert_eq!(body[key], sample[key], "{key}");
    }
    let sent = body["events"].as_array().unwrap();
    let given = sample["events"].as_array().unwrap();
    assert_eq!(sent.len(), given.len());
    for (sent, given) in sent.iter().zip(given) {
        assert!(
            contains(sent, given),
            "sent {sent}\nlacks part of the sample's {given}"
        );
    }
    // A key-less forwarder still sends every top-level field (as null).
    let bare = DevtoolsForwarder::builder("http://127.0.0.1:9")
        .with_flush_timeout(std::time::Duration::ZERO)
        .register(&center, "bare")
        .unwrap();
    let body: Value = serde_json::from_slice(&bare.ingest_body(&[])).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"app_id": null, "group_id": null, "environment": null, "events": []})
    );
}
