//! A center mirrors `action.*` events as `tool.*` twins; the transcript
//! drops the twins (marked in their meta), so one call gives one
//! `tool_call`, and a twin of a lifecycle event gives no second entry.

use std::sync::{Arc, Mutex};

use event_center::{
    Compat, Event, EventCenter, Mirror, RunContext, Transcript, TranscriptKind, TranscriptMapping,
};
use serde_json::json;

#[test]
fn mirrored_tool_twins_do_not_duplicate_tool_calls() {
    // Mirror every action.* event, starts and ends included.
    let center = EventCenter::builder()
        .with_compat(Compat::agently().with_mirrors(vec![Mirror::new("action", "tool")]))
        .build();
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("collect", None::<Vec<String>>, move |event: &Event| {
            sink.lock().unwrap().push(event.clone());
        })
        .unwrap();
    let emitter = center
        .emitter("ActionFlow")
        .with_run(RunContext::new("agent_execution"));
    emitter.emit("action.loop_started").send();
    emitter
        .emit("action.started")
        .payload(json!({"call_id": "k1", "action_name": "search", "input": "rust"}))
        .send();
    emitter
        .emit("action.completed")
        .payload(json!({"call_id": "k1", "output": ["tokio"]}))
        .send();

    let events = seen.lock().unwrap().clone();
    let twins = events.iter().filter(|e| e.is_compat_twin()).count();
    assert_eq!(twins, 3, "the center mirrored each action event");

    let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
    let kinds: Vec<TranscriptKind> = transcript.entries().iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        [TranscriptKind::CustomEvent, TranscriptKind::ToolCall]
    );
    let call = &transcript.entries()[1].attributes;
    assert_eq!(call["tool_name"], "search");
    assert_eq!(call["tool_output"], json!(["tokio"]));
    assert_eq!(call["success"], true);
}
