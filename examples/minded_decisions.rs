//! Decision hooks, the way Minded's agent SDK describes its own: hooks that
//! qualify triggers, decide whether an error is thrown, and replace a turn's
//! result. Observation hooks watch every decision go by.
//!
//! Run with `cargo run --example minded_decisions`.
//!
//! ## Trigger qualification
//!
//! A trigger (a webhook call, a chat message, a schedule) asks to start a
//! turn. Every trigger hook is asked, in registration order; the trigger is
//! qualified unless one of them answers `false`. With no hooks, every
//! trigger is qualified. Validate webhook input here.
//!
//! ## Error handling
//!
//! When a turn fails, error hooks answer `ErrorDisposition::Throw` (throw the
//! error and stop) or `ErrorDisposition::Continue` (catch it and go on). Any
//! `Throw` wins; with no hooks the error is thrown.
//!
//! ## Turn end
//!
//! When a turn ends, each turn-end hook sees the result so far and may
//! return a replacement (`Some`) or keep it (`None`). Turn-end hooks run for
//! disqualified turns too, so a refused trigger can still get an answer.
//!
//! ## Failures
//!
//! Decision hooks fail closed: a hook that panics disqualifies the trigger,
//! throws the error, or keeps the previous result, and is reported as an
//! `event_center.hook_failed` event.

use std::sync::{Arc, Mutex};

use event_center::{
    Decisions, ErrorDisposition, ErrorInfo, Event, EventCenter, RunContext, Trigger, TurnEnd,
};
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the deliberate panic below to one line on stderr.
    std::panic::set_hook(Box::new(|info| {
        let what = info.payload().downcast_ref::<&str>().copied();
        eprintln!("  (a hook panicked: {})", what.unwrap_or("?"));
    }));

    let center = EventCenter::new();

    // Devtools: every decision, and every failing hook, one line each.
    let decided = Arc::new(Mutex::new(Vec::new()));
    let log = decided.clone();
    center.register_hook(
        "devtools",
        ["decision.*", "event_center.hook_failed"],
        move |event: &Event| {
            println!(
                "  [{}] {:<32} {}",
                event.level,
                event.event_type,
                event.message.as_deref().unwrap_or("")
            );
            log.lock().unwrap().push(event.event_type.to_string());
        },
    )?;

    let decisions = Decisions::new(&center);

    // Trigger qualification: validate webhook input.
    decisions.on_trigger("authorized", |trigger: &Trigger| {
        trigger.name != "webhook" || trigger.body["headers"]["authorization"] == "expected-token"
    })?;
    decisions.on_trigger("has-customer", |trigger: &Trigger| {
        trigger.body["body"].get("customerId").is_some()
    })?;

    // Error handling: retryable errors are caught, everything else thrown.
    decisions.on_error("retryable-continues", |error: &ErrorInfo| {
        if error.retryable == Some(true) {
            ErrorDisposition::Continue
        } else {
            ErrorDisposition::Throw
        }
    })?;

    // Turn end: disqualified turns get a polite answer; every answer is signed.
    decisions.on_turn_end("refusal", |turn: &TurnEnd| {
        (!turn.qualified).then(|| json!({"reply": "Sorry, I can't help with that request."}))
    })?;
    decisions.on_turn_end("signature", |turn: &TurnEnd| {
        let reply = turn.result["reply"].as_str()?;
        Some(json!({"reply": format!("{reply}\n-- Support team")}))
    })?;

    // A hook with a bug: it panics, and the trigger is disqualified for it.
    decisions.on_trigger("geo-check", |trigger: &Trigger| {
        if trigger.body["body"]["country"].is_null() {
            panic!("geo database not loaded");
        }
        true
    })?;

    let run = RunContext::new("agent_execution").with_agent_name("support");
    run.in_scope(|| -> Result<(), Box<dyn std::error::Error>> {
        let turns = [
            Trigger::new(
                "webhook",
                json!({
                    "headers": {"authorization": "expected-token"},
                    "body": {"customerId": "c-17", "country": "FR", "message": "Where is my order?"},
                }),
            )
            .with_session_id("session-1"),
            Trigger::new(
                "webhook",
                json!({"headers": {}, "body": {"customerId": "c-18", "country": "DE"}}),
            )
            .with_session_id("session-2"),
            Trigger::new(
                "slack_message",
                json!({"body": {"customerId": "c-19", "message": "hi"}}),
            )
            .with_session_id("session-3"),
        ];
        for trigger in turns {
            println!("trigger `{}` ({:?})", trigger.name, trigger.session_id);
            let qualification = decisions.qualify(&trigger);
            let result = if qualification.is_qualified() {
                json!({"reply": "Your order ships tomorrow."})
            } else {
                println!("  disqualified by {:?}", qualification.disqualified_by());
                Value::Null
            };
            let qualified = qualification.is_qualified();
            let result = decisions.turn_end(TurnEnd::new(trigger, qualified, result));
            println!("  result: {result}");
        }

        // Two failures during a turn: one is caught, one is thrown.
        let flaky = ErrorInfo::new("Timeout", "the order service did not answer")
            .with_retryable(true);
        let broken = ErrorInfo::new("KeyError", "customer has no orders");
        for error in [flaky, broken] {
            let disposition = decisions.dispose(&error);
            println!("error `{}`: {:?}", error.error_type, disposition);
        }
        Ok(())
    })?;

    // Callers that fold the answers themselves ask every hook with `collect`.
    let probe = Trigger::new("webhook", json!({"headers": {}, "body": {}}));
    for answer in decisions.triggers().collect(&probe) {
        println!(
            "  {:<14} -> {:?}",
            answer.hook(),
            answer.result().as_ref().map_err(|e| &e.message)
        );
    }

    let decided = decided.lock().unwrap();
    assert!(decided.iter().any(|t| t == "decision.trigger.qualified"));
    assert!(decided.iter().any(|t| t == "event_center.hook_failed"));
    println!("{} decisions and failures observed", decided.len());
    Ok(())
}
