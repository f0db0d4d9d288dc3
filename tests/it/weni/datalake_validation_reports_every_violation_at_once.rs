//! Validating a Datalake record reports every violation of the profile at
//! once (event_name must be `weni_nexus_data`; key, value_type and date not
//! blank; value not null; fields of the right JSON type), each naming its
//! field, in field order, in a typed error whose message says what to do.

use event_center::{DatalakeRecord, Event, ViolationKind};
use serde_json::{json, Value};

#[test]
fn datalake_validation_reports_every_violation_at_once() {
    let mut record = DatalakeRecord::new("  ", "", Value::Null);
    record.event_name = "order_placed".into();
    record.date = "\t".into();
    let err = record.validate().unwrap_err();
    let found: Vec<_> = err
        .violations()
        .iter()
        .map(|v| (v.field(), v.kind().clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "event_name",
                ViolationKind::WrongEventName {
                    found: "order_placed".into()
                }
            ),
            ("key", ViolationKind::Blank),
            ("value_type", ViolationKind::Blank),
            ("value", ViolationKind::Null),
            ("date", ViolationKind::Blank),
        ]
    );
    let message = err.to_string();
    assert!(message.contains(r#"event_name must be "weni_nexus_data", found "order_placed""#));
    assert!(message.contains("key is blank; value_type is blank; value is null; date is blank"));
    assert!(message.contains("register it with"), "{message}");
    let _: &dyn std::error::Error = &err;

    // From an event: wrong types are reported once each, with the rest.
    let event = Event::new(DatalakeRecord::EVENT_TYPE).with_payload(json!({
        "event_name": "weni_nexus_data",
        "key": 42,
        "value_type": "string",
        "metadata": ["not", "an", "object"],
        "date": "",
    }));
    let err = DatalakeRecord::from_event(&event).unwrap_err();
    let found: Vec<_> = err
        .violations()
        .iter()
        .map(|v| (v.field(), v.kind().clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "key",
                ViolationKind::WrongType {
                    expected: "a string"
                }
            ),
            ("value", ViolationKind::Null),
            (
                "metadata",
                ViolationKind::WrongType {
                    expected: "a JSON object"
                }
            ),
            ("date", ViolationKind::Blank),
        ]
    );

    // A payload that is not an object at all.
    let err = DatalakeRecord::from_event(&Event::new(DatalakeRecord::EVENT_TYPE).with_payload("x"))
        .unwrap_err();
    assert_eq!(err.violations()[0].field(), "payload");
    assert_eq!(err.violations().len(), 5); // payload, event_name, key, value_type, value

    assert!(DatalakeRecord::new("csat", "int", 0).validate().is_ok());
}
