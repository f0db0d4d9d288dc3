//! The center mirrors `action.loop_started` as a `tool.loop_started` twin;
//! the OTLP exporter sends the occurrence once (the primary), unless asked
//! for the twins too.

use std::time::Duration;

use crate::support::otlp_receiver::{attr, OtlpReceiver};
use event_center::{EventCenter, OtlpExporter, RunContext};

fn exported_types(twins: bool) -> Vec<String> {
    let receiver = OtlpReceiver::start();
    let center = EventCenter::new();
    let guard = OtlpExporter::builder()
        .with_endpoint(&receiver.endpoint)
        .with_spans(false)
        .with_compat_twins(twins)
        .register(&center, "otlp")
        .unwrap();
    let emitter = center.emitter("Agent").with_run(RunContext::new("action"));
    emitter.emit("action.loop_started").send();
    emitter.emit("agent.step").send();
    guard.shutdown(Duration::from_secs(20));

    let want = if twins { 3 } else { 2 };
    let (logs, _) = receiver.collect_until(Duration::from_secs(20), |logs, _| logs.len() >= want);
    let mut types: Vec<String> = logs
        .iter()
        .map(|r| attr(&r.attributes, "event_center.event_type").unwrap())
        .collect();
    types.sort();
    types
}

#[test]
fn otlp_exports_each_action_once_not_its_tool_twin() {
    assert_eq!(exported_types(false), ["action.loop_started", "agent.step"]);
    assert_eq!(
        exported_types(true),
        ["action.loop_started", "agent.step", "tool.loop_started"]
    );
}
