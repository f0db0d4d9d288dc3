//! Legacy TriggerFlow names (`workflow.*`, `trigger_flow.*`) and the canonical
//! `triggerflow.*` names match each other's hooks in both directions, for the
//! suffixes in the alias table only; the delivered event keeps its own type.

use std::sync::{Arc, Mutex};

use event_center::{Compat, Event, EventCenter, Patterns};

type Seen = Arc<Mutex<Vec<String>>>;

fn recorder(center: &EventCenter, name: &'static str, patterns: impl Into<Patterns>) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook(name, patterns, move |e: &Event| {
            sink.lock().unwrap().push(e.event_type.to_string());
        })
        .unwrap();
    seen
}

fn take(seen: &Seen) -> Vec<String> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[test]
fn triggerflow_hook_receives_legacy_workflow_and_trigger_flow_events() {
    let center = EventCenter::new();
    let tf = recorder(&center, "tf", "triggerflow.*");
    let emitter = center.emitter("Flow");

    emitter.emit("workflow.execution_started").send();
    emitter.emit("trigger_flow.signal").send();
    emitter.emit("workflow.result_set").send();
    emitter.emit("trigger_flow.handler_dispatch").send();
    emitter.emit("triggerflow.execution_failed").send();

    assert_eq!(
        take(&tf),
        [
            "workflow.execution_started",
            "trigger_flow.signal",
            "workflow.result_set",
            "trigger_flow.handler_dispatch",
            "triggerflow.execution_failed",
        ]
    );
}

#[test]
fn workflow_hook_receives_canonical_triggerflow_events() {
    let center = EventCenter::new();
    let wf = recorder(&center, "wf", "workflow.*");
    let emitter = center.emitter("Flow");

    emitter.emit("triggerflow.execution_completed").send();
    emitter.emit("triggerflow.definition_declared").send();
    // `signal` is a trigger_flow suffix, not a workflow one.
    emitter.emit("triggerflow.signal").send();
    emitter.emit("triggerflow.custom_step").send();

    assert_eq!(
        take(&wf),
        [
            "triggerflow.execution_completed",
            "triggerflow.definition_declared"
        ]
    );
}

#[test]
fn trigger_flow_hook_receives_canonical_triggerflow_events() {
    let center = EventCenter::new();
    let legacy = recorder(&center, "legacy", "trigger_flow.*");
    let emitter = center.emitter("Flow");

    emitter.emit("triggerflow.annotation").send();
    emitter.emit("triggerflow.execution_started").send();

    assert_eq!(take(&legacy), ["triggerflow.annotation"]);
}

#[test]
fn exact_legacy_name_receives_the_canonical_event() {
    let center = EventCenter::new();
    let exact = recorder(&center, "exact", "workflow.result_set");
    let emitter = center.emitter("Flow");

    emitter.emit("triggerflow.result_set").send();
    emitter.emit("workflow.result_set").send();
    emitter.emit("triggerflow.execution_started").send();

    assert_eq!(
        take(&exact),
        ["triggerflow.result_set", "workflow.result_set"]
    );
}

#[test]
fn suffixes_outside_the_table_are_not_aliased() {
    let center = EventCenter::new();
    let tf = recorder(&center, "tf", "triggerflow.*");
    let wf = recorder(&center, "wf", "workflow.*");
    let emitter = center.emitter("Flow");

    emitter.emit("workflow.custom_step").send();
    emitter.emit("trigger_flow.execution_started").send();

    assert_eq!(take(&tf), Vec::<String>::new());
    assert_eq!(take(&wf), ["workflow.custom_step"]);
    assert!(!center.is_listened("trigger_flow.execution_started"));
}

#[test]
fn received_event_keeps_its_original_type_and_fields() {
    let center = EventCenter::new();
    let got: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = got.clone();
    center
        .register_hook("tf", "triggerflow.execution_started", move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();

    center
        .emitter("Flow")
        .emit("workflow.execution_started")
        .message("legacy")
        .payload(serde_json::json!({"n": 1}))
        .send();

    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_type.as_str(), "workflow.execution_started");
    assert_eq!(got[0].source.as_str(), "Flow");
    assert_eq!(got[0].message.as_deref(), Some("legacy"));
    assert_eq!(got[0].payload, serde_json::json!({"n": 1}));
    assert!(got[0].meta.is_empty());
}

#[test]
fn a_center_without_compat_matches_names_only_to_themselves() {
    let center = EventCenter::builder().with_compat(Compat::none()).build();
    let tf = recorder(&center, "tf", "triggerflow.*");
    let emitter = center.emitter("Flow");

    emitter.emit("workflow.execution_started").send();
    emitter.emit("triggerflow.execution_started").send();

    assert_eq!(take(&tf), ["triggerflow.execution_started"]);
}
