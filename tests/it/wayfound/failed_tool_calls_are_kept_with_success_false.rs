//! A tool call that failed is kept as a `tool_call` with `success: false`,
//! its latency and the error; so is a completion that carries an error. A
//! start that never ended is kept as unfinished, without `success`.

use event_center::{ErrorInfo, Event, Transcript, TranscriptMapping};
use serde_json::json;

#[test]
fn failed_tool_calls_are_kept_with_success_false() {
    let events = [
        Event::new("tool.started").with_timestamp(100).with_payload(
            json!({"tool_call_id": "a", "name": "Payments", "arguments": {"amount": 5}}),
        ),
        Event::new("tool.failed")
            .with_timestamp(130)
            .with_payload(json!({"tool_call_id": "a"}))
            .with_error(ErrorInfo::new("Timeout", "no answer in 30 ms").with_code("E42")),
        Event::new("action.started")
            .with_timestamp(200)
            .with_payload(json!({"call_id": "b", "action": "lookup"})),
        Event::new("action.completed")
            .with_timestamp(210)
            .with_payload(json!({"call_id": "b", "result": null}))
            .with_error(ErrorInfo::new("KeyError", "missing")),
        Event::new("tool.started")
            .with_timestamp(300)
            .with_payload(json!({"call_id": "c", "tool": "Slow"})),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    assert_eq!(transcript.len(), 3, "{transcript:#?}");

    let failed = &transcript.entries()[0].attributes;
    assert_eq!(failed["tool_name"], "Payments");
    assert_eq!(failed["tool_input"], json!({"amount": 5}));
    assert_eq!(failed["success"], false);
    assert_eq!(failed["latency_ms"], 30);
    assert_eq!(
        failed["error"],
        json!({"type": "Timeout", "message": "no answer in 30 ms", "code": "E42"})
    );

    let errored = &transcript.entries()[1].attributes;
    assert_eq!(errored["tool_name"], "lookup");
    assert_eq!(errored["success"], false);
    assert_eq!(errored["error"]["type"], "KeyError");

    let unfinished = &transcript.entries()[2].attributes;
    assert_eq!(unfinished["tool_name"], "Slow");
    assert_eq!(unfinished["status"], "unfinished");
    assert!(unfinished.get("success").is_none());
    assert!(unfinished.get("latency_ms").is_none());
}
