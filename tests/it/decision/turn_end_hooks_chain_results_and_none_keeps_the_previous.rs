//! Each turn-end hook sees the result the previous one left; `None` keeps
//! it, `Some` replaces it for the hooks after and for the caller.

use std::sync::{Arc, Mutex};

use event_center::{Decisions, EventCenter, Trigger, TurnEnd};
use serde_json::{json, Value};

#[test]
fn turn_end_hooks_chain_results_and_none_keeps_the_previous() {
    let decisions = Decisions::new(&EventCenter::new());
    let seen: Arc<Mutex<Vec<(&str, Value)>>> = Arc::default();
    let log = |name: &'static str| {
        let seen = seen.clone();
        move |turn: &TurnEnd| seen.lock().unwrap().push((name, turn.result.clone()))
    };

    let record = log("append");
    decisions
        .on_turn_end("append", move |turn: &TurnEnd| {
            record(turn);
            Some(json!(format!(
                "{}!",
                turn.result.as_str().unwrap_or_default()
            )))
        })
        .unwrap();
    let record = log("observe");
    decisions
        .on_turn_end("observe", move |turn: &TurnEnd| {
            record(turn);
            None
        })
        .unwrap();
    let record = log("wrap");
    decisions
        .on_turn_end("wrap", move |turn: &TurnEnd| {
            record(turn);
            Some(json!({"reply": turn.result}))
        })
        .unwrap();

    let turn = TurnEnd::new(Trigger::new("chat", json!("hi")), true, json!("hello"));
    assert_eq!(decisions.turn_end(turn), json!({"reply": "hello!"}));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("append", json!("hello")),
            ("observe", json!("hello!")),
            ("wrap", json!("hello!")),
        ]
    );
}
