//! A first look: hooks receive the events of a small agent run.
//!
//! Run with `cargo run --example quickstart`.

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, Patterns, RunContext};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let center = EventCenter::new();

    // A console sink: every event, one line each. Twins are marked so a sink
    // can drop them.
    center.register_hook("console", Patterns::All, |event: &Event| {
        let run = event
            .run
            .as_deref()
            .map_or("-".to_string(), |r| r.run_kind.clone());
        let twin = if event.is_compat_twin() {
            " (tool twin)"
        } else {
            ""
        };
        println!(
            "{:>8} {:<34} source={:<10} run={:<16} {}{}",
            event.level,
            event.event_type,
            event.source,
            run,
            event.message.as_deref().unwrap_or(""),
            twin
        );
    })?;

    // A devtools-style hook on the new TriggerFlow names: legacy `workflow.*`
    // events reach it too.
    let triggerflow_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = triggerflow_seen.clone();
    center.register_hook(
        "triggerflow-panel",
        "triggerflow.*",
        move |event: &Event| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(event.event_type.to_string());
            }
        },
    )?;

    // A hook that breaks: it is reported, and nothing else notices.
    center.register_hook(
        "flaky-exporter",
        "model.completed",
        |_: &Event| -> Result<(), String> { Err("exporter endpoint refused the batch".into()) },
    )?;

    let root = RunContext::new("agent_execution")
        .with_agent_name("travel-planner")
        .with_session_id("session-42");
    let agent = center.emitter("TravelAgent").with_meta("tenant", "demo");

    root.clone().in_scope(|| {
        agent.info("run started").send();

        let request = root.child("model_request");
        agent
            .emit("model.completed")
            .run(request)
            .message("model answered")
            .payload(json!({"tokens": 42}))
            .send();

        let action = root.child("action_loop");
        for step in ["loop_started", "plan_ready", "loop_completed"] {
            agent
                .emit(format!("action.{step}"))
                .run(action.clone())
                .payload(json!({"step": step}))
                .send();
        }

        agent
            .emit("workflow.execution_started")
            .message("legacy name")
            .send();
    });

    println!();
    println!(
        "triggerflow.* hook saw: {:?}",
        triggerflow_seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    );
    let stats = center.stats();
    for hook in &stats.hooks {
        println!(
            "hook {:<18} delivered={} failed={}",
            hook.name, hook.delivered, hook.failed
        );
    }
    Ok(())
}
