//! A tool start and its completion, paired by call id even when other calls
//! interleave, become one `tool_call` at the start's time with the tool's
//! name, input, output, `success: true` and the latency between the two.

use event_center::{Event, Transcript, TranscriptKind, TranscriptMapping};
use serde_json::json;

#[test]
fn a_tool_start_and_its_end_become_one_tool_call_with_latency() {
    let events = [
        Event::new("tool.started").with_timestamp(1_000).with_message("Searching flights").with_payload(
            json!({"call_id": "c1", "tool_name": "FlightService", "input": {"from": "SFO", "to": "JFK"}}),
        ),
        Event::new("tool.started")
            .with_timestamp(1_010)
            .with_payload(json!({"call_id": "c2", "tool_name": "Weather", "input": {"city": "NYC"}})),
        Event::new("tool.completed")
            .with_timestamp(1_050)
            .with_payload(json!({"call_id": "c2", "output": {"sky": "clear"}})),
        Event::new("tool.completed")
            .with_timestamp(1_120)
            .with_payload(json!({"call_id": "c1", "output": [{"flight_id": "FS123", "price": 320}]})),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());

    assert_eq!(transcript.len(), 2, "{transcript:#?}");
    let flights = &transcript.entries()[0];
    assert_eq!(flights.event_type, TranscriptKind::ToolCall);
    assert_eq!(
        serde_json::to_value(flights).unwrap(),
        json!({
            "timestamp": "1970-01-01T00:00:01.000Z",
            "event_type": "tool_call",
            "label": "Tool Call: FlightService",
            "description": "Searching flights",
            "attributes": {
                "tool_name": "FlightService",
                "tool_use_id": "c1",
                "tool_input": {"from": "SFO", "to": "JFK"},
                "tool_output": [{"flight_id": "FS123", "price": 320}],
                "success": true,
                "latency_ms": 120
            }
        })
    );
    let weather = &transcript.entries()[1];
    assert_eq!(weather.attributes["tool_name"], "Weather");
    assert_eq!(weather.attributes["tool_output"], json!({"sky": "clear"}));
    assert_eq!(weather.attributes["latency_ms"], 40);
}
