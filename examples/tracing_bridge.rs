//! An application that already logs with `tracing` sees its observation
//! events in the same output, and a center hook sees its `tracing` events.
//!
//! Run with `cargo run --features tracing --example tracing_bridge`
//! (`RUST_LOG`-style filtering: the re-emitted events have the target
//! `event_center`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Event, EventCenter, EventCenterLayer, RunContext, TracingHook};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let center = EventCenter::new();

    // The application's logging: tracing's fmt layer, plus the bridge into
    // the center.
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_target(true))
        .with(EventCenterLayer::new(&center).with_source("shop"))
        .init();

    // Out of the center: the framework's observation events go to tracing
    // too, on a background worker (never on the emit path). Named families
    // rather than `*`: with `*`, every tracing log would be listened to, so
    // built into a center event (which this hook then skips, as it came from
    // tracing).
    let tracing_hook = TracingHook::builder()
        .with_patterns(["model.*", "runtime.*", "tool.*"])
        .register(&center, "tracing")?;

    // A center hook (think devtools) that wants the application's orders,
    // whether they were emitted through the center or logged with tracing.
    let orders = Arc::new(Mutex::new(Vec::new()));
    let seen = orders.clone();
    center.register_hook("orders-panel", "order.*", move |event: &Event| {
        let run = event.run.as_deref().map_or("-", |r| r.run_kind.as_str());
        if let Ok(mut seen) = seen.lock() {
            seen.push(format!(
                "{} {} payload={} run={}",
                event.level, event.event_type, event.payload, run
            ));
        }
    })?;

    // The agent framework emits observation events ...
    let run = RunContext::new("agent_execution").with_agent_name("shopper");
    let emitter = center.emitter("Planner").with_run(run);
    emitter
        .emit("model.completed")
        .message("picked a product")
        .payload(json!({"tokens": 42}))
        .send();
    emitter.warning("budget almost spent").send();

    // ... while the application logs with tracing, inside a span that
    // becomes the events' run.
    let checkout = tracing::info_span!("checkout", session_id = "s-1");
    checkout.in_scope(|| {
        tracing::info!(
            event_type = "order.created",
            order_id = 7,
            amount = 12.5,
            "order created"
        );
        tracing::info!("an ordinary log line: no hook listens, so the center builds nothing");
    });

    // Let the background hook write its lines (its guard drains its queue
    // and unregisters it), then show what the center saw.
    let report = tracing_hook.shutdown(Duration::from_secs(5));
    println!("\nthe orders panel saw (from tracing):");
    for line in orders.lock().map(|o| o.clone()).unwrap_or_default() {
        println!("  {line}");
    }
    println!(
        "the tracing hook: {} delivered, {} dropped, {} pending",
        report.delivered, report.dropped, report.pending
    );
    Ok(())
}
