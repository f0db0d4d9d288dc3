//! Hooks that never slow the agent: a slow sink on a background queue, a
//! live view that gets model deltas coalesced, secrets masked before any hook
//! sees them, and a shutdown that says what happened to every event.
//!
//! Run with `cargo run --example delivery`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_center::{
    CoalescePolicy, Delivery, Event, EventCenter, HookOptions, Overflow, RunContext,
};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let center = EventCenter::new();

    // A slow sink (think: a file on a network disk). It gets its own worker
    // and a queue of 256 events; when it falls further behind, the oldest
    // queued events make room, and the drops are counted and reported.
    let written = Arc::new(AtomicU64::new(0));
    let sink_count = written.clone();
    let sink = HookOptions::new().with_delivery(Delivery::background(256, Overflow::DropOldest));
    center.register_hook_with("slow-sink", "*", sink, move |event: &Event| {
        std::thread::sleep(Duration::from_micros(200));
        let _line = serde_json::to_string(event);
        sink_count.fetch_add(1, Ordering::Relaxed);
    })?;

    // A live view: model deltas arrive as one summary per 50 tokens (or
    // after 100 ms of quiet); anything else flushes the buffer first.
    let view = HookOptions::new()
        .with_delivery(Delivery::coalesce(CoalescePolicy::new().with_max_items(50)));
    center.register_hook_with("live-view", "model.*", view, |event: &Event| {
        match event.meta.get("coalesced_count") {
            Some(count) => println!(
                "view: {count} x {} (last: {})",
                event.event_type, event.payload["last_payload"]["delta"]
            ),
            None => println!("view: {}", event.event_type),
        }
    })?;

    // Someone must hear about drops.
    center.register_hook("drop-alarm", "event_center.events_dropped", |e: &Event| {
        println!("alarm: {}", e.message.as_deref().unwrap_or(""));
    })?;

    let run = RunContext::new("model_request").with_agent_name("writer");
    let model = center.emitter("Model").with_run(run);
    let started = Instant::now();
    model
        .emit("model.requested")
        .payload(json!({"model": "demo", "api_key": "sk-live-123"}))
        .send();
    for i in 0..2_000 {
        model
            .emit("model.response.delta")
            .payload(json!({"delta": format!("token{i} ")}))
            .send();
    }
    model.emit("model.completed").send();
    println!(
        "agent: emitted 2,002 events in {:?} (the sink is still writing)",
        started.elapsed()
    );

    let report = center.shutdown(Duration::from_secs(10));
    println!(
        "shutdown after {:?}: accepted {}, delivered {}, dropped {}, failed {}, pending {}",
        report.elapsed,
        report.accepted,
        report.delivered,
        report.dropped,
        report.failed,
        report.pending
    );
    for hook in &report.hooks {
        println!(
            "  {:<10} accepted {:>5} delivered {:>5} evicted {:>5} high-water {}",
            hook.name, hook.accepted, hook.delivered, hook.dropped.evicted, hook.high_water
        );
    }
    assert!(report.is_complete(), "the shutdown timeout was too short");
    assert_eq!(
        report.accepted,
        report.delivered + report.dropped + report.failed
    );
    Ok(())
}
