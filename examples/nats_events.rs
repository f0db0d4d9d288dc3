//! Publishes a small agent run's events to NATS JetStream with a
//! `NatsSink`, then reads the model and tool events back with a durable
//! `NatsSource` into a second, local center.
//!
//! ```text
//! nats-server -js &
//! cargo run --features nats --example nats_events -- nats://127.0.0.1:4222
//! ```
//!
//! With no server at the URL (default `nats://127.0.0.1:4222`) it says so
//! and exits 0. Run it twice: the durable consumer resumes where it
//! stopped, so the second run reads only the second run's events.

use std::time::Duration;

use event_center::{
    Event, EventCenter, NatsError, NatsErrorKind, NatsSink, NatsSource, RunContext,
};
use serde_json::json;

const PREFIX: &str = "demo.events";
const STREAM: &str = "EVENT_CENTER_DEMO";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());

    let center = EventCenter::new();
    let guard = match NatsSink::builder(&url)
        .with_prefix(PREFIX)
        .with_stream(STREAM)
        .register(&center, "nats")
    {
        Ok(guard) => guard,
        Err(e) if e.kind() == NatsErrorKind::Connect => {
            println!("{e}");
            println!("nothing was published; start `nats-server -js` and run this again");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "model.completed goes to `{}`",
        guard.subject("model.completed")
    );

    let run = RunContext::new("agent_execution").with_agent_name("planner");
    let agent = center.emitter("Planner").with_run(run.clone());
    let model = run.child("model_request");
    agent.emit("agent_execution.started").send();
    agent
        .emit("model.requesting")
        .run(model.clone())
        .payload(json!({"model": "gpt-4o", "prompt": "find a flight to Lisbon"}))
        .send();
    agent
        .emit("model.completed")
        .run(model)
        .payload(json!({"model": "gpt-4o", "output_tokens": 42}))
        .send();
    agent
        .emit("tool.called")
        .payload(json!({"tool": "search_flights", "to": "LIS"}))
        .send();
    agent.emit("agent_execution.completed").send();

    guard.flush(Duration::from_secs(5));
    let stats = guard.stats();
    println!(
        "published {} events to stream {STREAM} ({} duplicates, {} lost, {} retries)",
        stats.published, stats.duplicates, stats.lost, stats.retries
    );
    guard.shutdown(Duration::from_secs(5));

    // Read them back into a local center, model and tool events only.
    let local = EventCenter::new();
    local.register_hook("print", "*", |event: &Event| {
        println!("  received {} {}", event.event_type, event.event_id);
    })?;
    let runtime = tokio::runtime::Runtime::new()?;
    let stats = runtime.block_on(async {
        let source = NatsSource::builder(&url, "nats-events-example")
            .with_prefix(PREFIX)
            .with_stream(STREAM)
            .with_patterns(["model.*", "tool.*"])
            .build()
            .await?;
        println!("consuming `{}`", source.filter_subject());
        let stop = tokio::time::sleep(Duration::from_secs(1));
        Ok::<_, NatsError>(source.run_into(&local, stop).await)
    })?;
    println!(
        "the source handed {} events to the local center and skipped {} others",
        stats.delivered, stats.filtered
    );
    Ok(())
}
