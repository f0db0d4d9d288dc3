//! `action.loop_started`, `action.plan_ready`, `action.loop_failed` and
//! `action.loop_completed` are each followed by one `tool.<suffix>` twin that
//! copies the primary and carries exactly the compat meta.

use std::sync::{Arc, Mutex};

use event_center::{Compat, ErrorInfo, Event, EventCenter, Level, Mirror, Patterns, RunContext};
use serde_json::json;

type Seen = Arc<Mutex<Vec<Event>>>;

fn record_all(center: &EventCenter) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("all", Patterns::All, move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();
    seen
}

const MIRRORED: [&str; 4] = [
    "loop_started",
    "plan_ready",
    "loop_failed",
    "loop_completed",
];

#[test]
fn each_loop_event_is_followed_by_exactly_one_tool_twin() {
    let center = EventCenter::new();
    let seen = record_all(&center);
    let run = RunContext::new("action").with_agent_name("planner");
    let emitter = center.emitter("ActionFlow").with_run(run.clone());

    for suffix in MIRRORED {
        emitter
            .emit(format!("action.{suffix}"))
            .level(Level::Warning)
            .message(format!("msg {suffix}"))
            .payload(json!({"step": suffix}))
            .error(ErrorInfo::new("Timeout", suffix))
            .meta("primary_only", true)
            .send();
    }

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "action.loop_started",
            "tool.loop_started",
            "action.plan_ready",
            "tool.plan_ready",
            "action.loop_failed",
            "tool.loop_failed",
            "action.loop_completed",
            "tool.loop_completed",
        ]
    );

    for (pair, suffix) in seen.chunks(2).zip(MIRRORED) {
        let (primary, twin) = (&pair[0], &pair[1]);
        assert_eq!(primary.event_type.as_str(), format!("action.{suffix}"));
        assert_eq!(twin.event_type.as_str(), format!("tool.{suffix}"));
        assert_ne!(twin.event_id, primary.event_id);
        assert_eq!(twin.event_id.to_string().len(), 32);
        assert_eq!(twin.source.as_str(), "ActionFlow");
        assert_eq!(twin.source, primary.source);
        assert_eq!(twin.level, Level::Warning);
        assert_eq!(twin.message, primary.message);
        assert_eq!(twin.payload, json!({"step": suffix}));
        assert_eq!(twin.error, primary.error);
        assert_eq!(twin.error.as_deref().unwrap().message, suffix);
        assert_eq!(twin.run, primary.run);
        assert_eq!(twin.run.as_deref().unwrap().run_id, run.run_id);
        assert!(twin.seq > primary.seq);
        assert_eq!(
            *primary.meta,
            *json!({"primary_only": true}).as_object().unwrap()
        );
        let expected_meta = json!({
            "compat_event_alias": true,
            "compat_alias_for": format!("action.{suffix}"),
            "primary_event_id": primary.event_id.to_string(),
            "compat_family": "tool",
        });
        assert_eq!(*twin.meta, *expected_meta.as_object().unwrap());
        assert!(twin.is_compat_twin());
        assert!(!primary.is_compat_twin());
    }
}

#[test]
fn a_tool_hook_alone_receives_the_twin_only() {
    let center = EventCenter::new();
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("tools", "tool.*", move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();

    assert!(center.is_listened("action.loop_started"));
    center.emitter("A").emit("action.loop_started").send();
    center.emitter("A").emit("action.started").send();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].event_type.as_str(), "tool.loop_started");
    assert_eq!(seen[0].meta["compat_alias_for"], "action.loop_started");
}

#[test]
fn other_action_events_are_not_mirrored() {
    let center = EventCenter::new();
    let seen = record_all(&center);
    let emitter = center.emitter("ActionFlow");
    emitter.emit("action.started").send();
    emitter.emit("action.completed").send();
    let types: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_type.to_string())
        .collect();
    assert_eq!(types, ["action.started", "action.completed"]);
}

#[test]
fn a_primary_of_another_compat_family_is_not_mirrored() {
    let center = EventCenter::new();
    let seen = record_all(&center);
    let emitter = center.emitter("ActionFlow");
    emitter
        .emit("action.loop_started")
        .meta("compat_event_family", "other")
        .send();
    emitter
        .emit("action.plan_ready")
        .meta("compat_event_family", "tool")
        .send();

    let types: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_type.to_string())
        .collect();
    assert_eq!(
        types,
        [
            "action.loop_started",
            "action.plan_ready",
            "tool.plan_ready"
        ]
    );
}

#[test]
fn a_dict_emitted_loop_event_is_mirrored_with_its_given_id() {
    let center = EventCenter::new();
    let seen = record_all(&center);
    center
        .emit_json(json!({
            "event_type": "action.loop_completed",
            "event_id": "0f03455bfe6b41a89b4206cfe20d79d9",
            "source": "ActionFlow",
            "payload": {"step": "loop_completed"}
        }))
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].event_type.as_str(), "tool.loop_completed");
    assert_eq!(
        seen[1].meta["primary_event_id"],
        "0f03455bfe6b41a89b4206cfe20d79d9"
    );
    assert_eq!(seen[1].source.as_str(), "ActionFlow");
}

#[test]
fn a_custom_mirror_table_mirrors_every_action_event() {
    let center = EventCenter::builder()
        .with_compat(Compat::agently().with_mirrors(vec![Mirror::new("action", "tool")]))
        .build();
    let seen = record_all(&center);
    let emitter = center.emitter("ActionFlow");
    emitter.emit("action.started").send();
    emitter.emit("action.loop_started").send();

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "action.started",
            "tool.started",
            "action.loop_started",
            "tool.loop_started"
        ]
    );
    let expected = json!({
        "compat_event_alias": true,
        "compat_alias_for": "action.started",
        "primary_event_id": seen[0].event_id.to_string(),
        "compat_family": "tool",
    });
    assert_eq!(*seen[1].meta, *expected.as_object().unwrap());
}

#[test]
fn a_center_without_compat_mirrors_nothing() {
    let center = EventCenter::builder().with_compat(Compat::none()).build();
    let seen = record_all(&center);
    let emitter = center.emitter("ActionFlow");
    for suffix in MIRRORED {
        emitter.emit(format!("action.{suffix}")).send();
    }
    let types: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_type.to_string())
        .collect();
    assert_eq!(
        types,
        [
            "action.loop_started",
            "action.plan_ready",
            "action.loop_failed",
            "action.loop_completed"
        ]
    );
}

#[tokio::test]
async fn send_async_delivers_the_twin_after_the_primary() {
    let center = EventCenter::new();
    let seen = record_all(&center);
    center
        .emitter("ActionFlow")
        .emit("action.loop_failed")
        .send_async()
        .await;
    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["action.loop_failed", "tool.loop_failed"]);
    assert_eq!(
        seen[1].meta["primary_event_id"],
        seen[0].event_id.to_string()
    );
}
