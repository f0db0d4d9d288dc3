//! A disqualified trigger still ends its turn through the turn-end hooks,
//! which see that it was disqualified and may replace the result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use event_center::{Decisions, EventCenter, Trigger, TurnEnd};
use serde_json::{json, Value};

#[test]
fn turn_end_hooks_run_for_disqualified_turns() {
    let decisions = Decisions::new(&EventCenter::new());
    decisions
        .on_trigger("needs-customer", |t: &Trigger| {
            t.body.get("customer_id").is_some()
        })
        .unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    decisions
        .on_turn_end("refusal", move |turn: &TurnEnd| {
            flag.store(true, Ordering::SeqCst);
            (!turn.qualified).then(|| json!({"reply": "Please sign in first."}))
        })
        .unwrap();

    let trigger = Trigger::new("webhook", json!({"message": "refund me"}));
    let qualification = decisions.qualify(&trigger);
    assert!(!qualification.is_qualified());

    let turn = TurnEnd::new(trigger, qualification.is_qualified(), Value::Null);
    let result = decisions.turn_end(turn);
    assert!(ran.load(Ordering::SeqCst));
    assert_eq!(result, json!({"reply": "Please sign in first."}));
}
