//! A turn-end hook that panics leaves the result as the previous hook left
//! it; the hooks after it still run, and the panic is reported.

use std::sync::{Arc, Mutex};

use event_center::{Decisions, EventCenter, Trigger, TurnEnd};
use serde_json::json;

#[test]
fn a_panicking_turn_end_hook_keeps_the_previous_result() {
    let center = EventCenter::new();
    let reports = crate::support::record(&center, "alerts", "event_center.hook_failed");

    let decisions = Decisions::new(&center);
    decisions
        .on_turn_end("translate", |_: &TurnEnd| Some(json!("bonjour")))
        .unwrap();
    decisions
        .on_turn_end("moderate", |_: &TurnEnd| -> Option<serde_json::Value> {
            panic!("moderation service down")
        })
        .unwrap();
    let after = Arc::new(Mutex::new(None));
    let saw = after.clone();
    decisions
        .on_turn_end("audit", move |turn: &TurnEnd| {
            *saw.lock().unwrap() = Some(turn.result.clone());
            None
        })
        .unwrap();

    let turn = TurnEnd::new(Trigger::new("chat", json!("hi")), true, json!("hello"));
    assert_eq!(decisions.turn_end(turn), json!("bonjour"));
    assert_eq!(*after.lock().unwrap(), Some(json!("bonjour")));

    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].payload["hook"], "moderate");
    assert_eq!(
        reports[0].payload["event_type"],
        "decision.turn_end.replaced"
    );
}
