//! Rules added to the mapping win over the default table: an event type can
//! be re-mapped, ignored, or made a tool call; the rest of the defaults stay.

use event_center::{Event, Transcript, TranscriptKind, TranscriptMapping};
use serde_json::json;

#[test]
fn user_rules_override_the_default_transcript_mapping() {
    let mapping = TranscriptMapping::builder()
        .with_rule("model.completed", TranscriptKind::StructuredMessage)
        .with_rule("ui.*", TranscriptKind::ButtonClick)
        .with_ignored("runtime.debug")
        .with_tool_start("search.begin")
        .with_tool_end("search.end")
        .build()
        .unwrap();
    let events = [
        Event::new("model.completed")
            .with_timestamp(1)
            .with_payload(json!({"options": ["a", "b"]})),
        Event::new("ui.clicked")
            .with_timestamp(2)
            .with_payload(json!({"button_id": "trend"})),
        Event::new("runtime.debug")
            .with_timestamp(3)
            .with_message("noise"),
        Event::new("runtime.info")
            .with_timestamp(4)
            .with_message("kept"),
        Event::new("search.begin")
            .with_timestamp(5)
            .with_payload(json!({"call_id": "s", "tool_name": "Search"})),
        Event::new("search.end")
            .with_timestamp(9)
            .with_payload(json!({"call_id": "s", "output": 3})),
    ];
    let transcript = Transcript::from_events(events, &mapping);
    let kinds: Vec<TranscriptKind> = transcript.entries().iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        [
            TranscriptKind::StructuredMessage,
            TranscriptKind::ButtonClick,
            TranscriptKind::DeveloperMessage,
            TranscriptKind::ToolCall,
        ]
    );
    assert_eq!(transcript.entries()[1].attributes["button_id"], "trend");
    assert_eq!(transcript.entries()[2].attributes["content"], "kept");
    assert_eq!(transcript.entries()[3].attributes["latency_ms"], 4);
    assert_eq!(transcript.entries()[3].attributes["tool_output"], 3);
}
