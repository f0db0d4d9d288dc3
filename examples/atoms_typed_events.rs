//! Custom typed events, the way Smallest.ai Atoms defines them: signal a
//! business state (an escalation, a failed payment) as a struct with its own
//! namespaced event type, instead of an untyped dictionary.
//!
//! 1. Define the event: a serde struct and its type string.
//! 2. Emit it: `emitter.emit_typed(&value)`.
//! 3. Handle it: `center.on::<T>(name, |event, value| ...)` receives the
//!    struct; pattern hooks still receive every event, typed or not, so
//!    nothing breaks the chain.
//!
//! Run with `cargo run --example atoms_typed_events`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Event, EventCenter, Level, RunContext, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

// 1. Define the events. Use a namespaced type string (`support.…`,
//    `billing.…`) so yours never collide with the center's own or another
//    library's events.

/// The support bot hands the conversation to a human.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EscalationEvent {
    reason: String,
    #[serde(default = "medium")]
    severity: String,
}

fn medium() -> String {
    "medium".to_owned()
}

impl TypedEvent for EscalationEvent {
    const EVENT_TYPE: &'static str = "support.escalation.raised";
}

/// A payment did not go through.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PaymentFailed {
    order_id: String,
    amount_cents: u64,
    retryable: bool,
}

impl TypedEvent for PaymentFailed {
    const EVENT_TYPE: &'static str = "billing.payment.failed";
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let center = EventCenter::new();

    // 3. Handle the events. The supervisor receives each escalation as an
    //    `EscalationEvent`, with the stamped event beside it.
    let escalations = Arc::new(Mutex::new(Vec::new()));
    let inbox = escalations.clone();
    center.on::<EscalationEvent>("supervisor", move |event, escalation| {
        println!(
            "supervisor: escalation from {} ({} severity): {}",
            event.source, escalation.severity, escalation.reason
        );
        inbox.lock().unwrap().push(escalation);
    })?;
    center.on::<PaymentFailed>("dunning", |_, failed| {
        let next = if failed.retryable { "retry" } else { "notify" };
        println!(
            "dunning: order {} failed for {} cents: {next}",
            failed.order_id, failed.amount_cents
        );
    })?;

    // A logger sees everything, typed or not: events it does not understand
    // pass through it untouched. `Event::typed` is the `isinstance` check.
    center.register_hook("logger", "*", |event: &Event| {
        let note = match event.typed::<EscalationEvent>() {
            Ok(Some(e)) => format!(" <- escalation, severity {}", e.severity),
            Ok(None) => String::new(),
            Err(e) => format!(" <- not a valid escalation: {e}"),
        };
        println!(
            "logger: {:<8} {:<28} {}{note}",
            event.level, event.event_type, event.payload
        );
    })?;

    // Failures of hooks are events too.
    center.register_hook("alerts", "event_center.hook_failed", |event: &Event| {
        println!("alert: {}", event.message.as_deref().unwrap_or(""));
    })?;

    // A hook of another Rust type under an event type already taken is
    // refused: one string, one meaning.
    #[derive(Serialize, Deserialize)]
    struct Escalation2 {
        ticket: u64,
    }
    impl TypedEvent for Escalation2 {
        const EVENT_TYPE: &'static str = "support.escalation.raised";
    }
    if let Err(e) = center.on::<Escalation2>("other", |_, _| {}) {
        println!("refused: {e}");
    }

    // 2. Emit the events from the agents.
    let run = RunContext::new("call").with_agent_name("support-bot");
    let bot = center.emitter("SupportBot").with_run(run.clone());
    bot.emit("support.user.message")
        .payload(json!({"text": "This is the third time I am asking!"}))
        .send();
    bot.emit_typed(&EscalationEvent {
        reason: "user is frustrated".into(),
        severity: "high".into(),
    })
    .level(Level::Warning)
    .send();

    let billing = center.emitter("Billing").with_run(run.child("payment"));
    billing
        .emit_typed(&PaymentFailed {
            order_id: "A-17".into(),
            amount_cents: 4_200,
            retryable: true,
        })
        .send();

    // From the wire (another service, Agently's dict emit): decoded the same
    // way, and `severity` takes its default.
    center.emit_json(json!({
        "event_type": "support.escalation.raised",
        "source": "VoiceGateway",
        "payload": {"reason": "caller asked for a human"},
    }))?;

    // A payload that does not fit the type never reaches the typed hook: the
    // logger still sees it, and the failure is reported as
    // `event_center.hook_failed`, naming the type and the serde error.
    center.emit_json(json!({
        "event_type": "billing.payment.failed",
        "source": "LegacyBilling",
        "payload": {"order": "A-18"},
    }))?;

    center.flush(Duration::from_secs(5));
    let escalations = escalations.lock().unwrap();
    assert_eq!(escalations.len(), 2);
    assert_eq!(escalations[1].severity, "medium");
    let stats = center.stats();
    let dunning = stats.hooks.iter().find(|h| h.name == "dunning").unwrap();
    println!(
        "dunning: {} delivered, {} failed to decode",
        dunning.delivered, dunning.failed
    );
    assert_eq!((dunning.delivered, dunning.failed), (1, 1));
    Ok(())
}
