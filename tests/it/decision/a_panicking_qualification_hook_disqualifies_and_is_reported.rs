//! A qualification hook that panics disqualifies the trigger (verdict hooks
//! fail closed), the other hooks still run, and the panic is reported as
//! `event_center.hook_failed` naming the hook and the decision event.

use std::sync::{Arc, Mutex};

use event_center::{Decisions, Event, EventCenter, Level, Trigger};
use serde_json::json;

#[test]
fn a_panicking_qualification_hook_disqualifies_and_is_reported() {
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook(
            "devtools",
            ["decision.*", "event_center.hook_failed"],
            move |e: &Event| sink.lock().unwrap().push(e.clone()),
        )
        .unwrap();

    let decisions = Decisions::new(&center);
    decisions.on_trigger("open", |_: &Trigger| true).unwrap();
    decisions
        .on_trigger("crm-lookup", |_: &Trigger| -> bool {
            panic!("crm unreachable")
        })
        .unwrap();
    decisions
        .on_trigger("also-open", |_: &Trigger| true)
        .unwrap();

    let q = decisions.qualify(&Trigger::new("webhook", json!({})));
    assert!(!q.is_qualified());
    assert_eq!(q.disqualified_by(), ["crm-lookup"]);
    assert_eq!(q.failed(), ["crm-lookup"]);
    assert_eq!(q.hook_count(), 3);

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| &*e.event_type).collect();
    assert_eq!(
        types,
        ["decision.trigger.disqualified", "event_center.hook_failed"]
    );
    let (decision, report) = (&seen[0], &seen[1]);
    assert_eq!(decision.payload["failed"], json!(["crm-lookup"]));
    assert_eq!(report.level, Level::Error);
    assert_eq!(report.source, "event_center");
    assert_eq!(
        report.payload,
        json!({
            "hook": "crm-lookup",
            "event_type": "decision.trigger.disqualified",
            "event_id": decision.event_id.to_string(),
        })
    );
    let error = report.error.as_ref().expect("the panic is described");
    assert_eq!(error.error_type, "panic");
    assert_eq!(error.message, "crm unreachable");
    drop(seen);
    assert_eq!(center.stats().hook_failures, 1);
}
