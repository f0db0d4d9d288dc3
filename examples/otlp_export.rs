//! Exports an agent run to an OpenTelemetry collector: every event as an
//! OTLP log record, every run as a span of one trace.
//!
//! Start a collector that accepts OTLP/HTTP (port 4318), then:
//!
//! ```text
//! cargo run --example otlp_export --features otlp
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 cargo run --example otlp_export --features otlp
//! ```
//!
//! Without a collector the example says that the export failed, and why.

use std::time::Duration;

use event_center::{EventCenter, OtlpExporter, RunContext};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let center = EventCenter::new();
    let guard = OtlpExporter::builder() // endpoint: OTEL_EXPORTER_OTLP_ENDPOINT or localhost:4318
        .with_service_name("travel-agent")
        .with_timeout(Duration::from_secs(3))
        .with_retries(0)
        .register(&center, "otlp")?;

    // One agent execution with a model request and a tool call under it.
    let agent = RunContext::new("agent_execution")
        .with_agent_name("travel-agent")
        .with_session_id("conversation-1");
    let model = agent.child("model_request");
    let tool = model.child("action");

    let agent_events = center.emitter("Agent").with_run(agent);
    let model_events = center.emitter("Model").with_run(model);
    let tool_events = center.emitter("Tools").with_run(tool);

    agent_events
        .emit("agent.started")
        .message("Find a flight to Lisbon")
        .send();
    model_events
        .emit("model.requesting")
        .payload(json!({"model": "gpt-4o-mini"}))
        .send();
    tool_events
        .emit("action.started")
        .payload(json!({"tool": "search_flights", "to": "LIS"}))
        .send();
    tool_events
        .emit("action.completed")
        .payload(json!({"flights": ["FS123", "FS456"]}))
        .send();
    model_events
        .emit("model.completed")
        .message("FS123 leaves at 9:40.")
        .payload(json!({
            "model": "gpt-4o-mini",
            "usage": {"input_tokens": 412, "output_tokens": 38}
        }))
        .send();
    agent_events.emit("agent.completed").send();

    // Sends what was emitted (the open runs stay open), then ends the runs'
    // spans and sends them at the shutdown.
    let endpoint = guard.endpoint().to_owned();
    guard.flush(Duration::from_secs(5));
    let failed = guard.stats().last_error;
    guard.shutdown(Duration::from_secs(5));
    match failed {
        None => println!("exported 6 log records and 3 spans to {endpoint}"),
        Some(error) => println!("the export failed: {error}"),
    }
    Ok(())
}
