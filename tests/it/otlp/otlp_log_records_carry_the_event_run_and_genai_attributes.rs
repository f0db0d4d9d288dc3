//! Each event arrives at a real OTLP/HTTP receiver as a log record with its
//! time, severity, body, event attributes, run ids, GenAI attributes and
//! the trace context of its run.

use std::time::Duration;

use crate::support::otlp_receiver::{attr, hex, text, OtlpReceiver};
use event_center::{ErrorInfo, EventCenter, Level, OtlpExporter, RunContext};
use serde_json::json;

#[test]
fn otlp_log_records_carry_the_event_run_and_genai_attributes() {
    let receiver = OtlpReceiver::start();
    let center = EventCenter::new();
    let guard = OtlpExporter::builder()
        .with_endpoint(&receiver.endpoint)
        .with_service_name("travel-agent")
        .with_batch_delay(Duration::from_millis(100))
        .with_spans(false)
        .register(&center, "otlp")
        .unwrap();

    let root = RunContext::new("agent_execution")
        .with_session_id("conversation-7")
        .with_agent_name("helper");
    let model_run = root.child("model_request");
    let payload = json!({
        "model": "gpt-4o-mini",
        "usage": {"input_tokens": 12, "output_tokens": 30},
        "text": "FS123 it is."
    });
    center
        .emitter("Planner")
        .with_run(model_run.clone())
        .emit("model.completed")
        .level(Level::Warning)
        .message("answered")
        .payload(payload.clone())
        .send();
    center
        .emitter("Runtime")
        .emit("runtime.error")
        .level(Level::Error)
        .error(ErrorInfo::new("ValueError", "bad input"))
        .send();
    guard.flush(Duration::from_secs(20));

    let (logs, _) = receiver.collect_until(Duration::from_secs(20), |logs, _| logs.len() >= 2);
    assert_eq!(logs.len(), 2, "{logs:#?}");
    let model = logs
        .iter()
        .find(|r| {
            attr(&r.attributes, "event_center.event_type").as_deref() == Some("model.completed")
        })
        .expect("the model.completed record");

    // The event itself.
    assert_eq!(
        text(model.body.as_ref().unwrap()).as_deref(),
        Some("answered")
    );
    assert_eq!(model.severity_text, "WARNING");
    assert_eq!(model.severity_number, 13); // SEVERITY_NUMBER_WARN
    assert!(model.time_unix_nano > 1_600_000_000_000_000_000);
    assert_eq!(
        model.time_unix_nano % 1_000_000,
        0,
        "milliseconds as nanoseconds"
    );
    let a = &model.attributes;
    assert_eq!(attr(a, "event_center.source").as_deref(), Some("Planner"));
    let sent: serde_json::Value =
        serde_json::from_str(&attr(a, "event_center.payload").unwrap()).unwrap();
    assert_eq!(sent, payload);

    // The run's real ids.
    assert_eq!(
        attr(a, "event_center.run_id"),
        Some(model_run.run_id.clone())
    );
    assert_eq!(
        attr(a, "event_center.run_kind").as_deref(),
        Some("model_request")
    );
    assert_eq!(
        attr(a, "event_center.parent_run_id"),
        Some(root.run_id.clone())
    );
    assert_eq!(
        attr(a, "event_center.root_run_id"),
        Some(root.run_id.clone())
    );
    assert_eq!(
        attr(a, "event_center.session_id").as_deref(),
        Some("conversation-7")
    );

    // GenAI semantic conventions.
    assert_eq!(
        attr(a, "gen_ai.conversation.id").as_deref(),
        Some("conversation-7")
    );
    assert_eq!(attr(a, "gen_ai.agent.name").as_deref(), Some("helper"));
    assert_eq!(
        attr(a, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        attr(a, "gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(attr(a, "gen_ai.usage.input_tokens").as_deref(), Some("12"));
    assert_eq!(attr(a, "gen_ai.usage.output_tokens").as_deref(), Some("30"));
    assert_eq!(attr(a, "gen_ai.operation.name").as_deref(), Some("chat"));

    // The trace context: the root run is the trace, the run the span.
    assert_eq!(hex(&model.trace_id), root.run_id);
    assert_eq!(hex(&model.span_id), model_run.run_id[16..]);

    // An event without a run has no trace context; its error is kept.
    let runtime = logs
        .iter()
        .find(|r| {
            attr(&r.attributes, "event_center.event_type").as_deref() == Some("runtime.error")
        })
        .expect("the runtime.error record");
    assert!(runtime.trace_id.is_empty() || runtime.trace_id.iter().all(|b| *b == 0));
    assert_eq!(runtime.severity_number, 17); // SEVERITY_NUMBER_ERROR
    assert_eq!(
        attr(&runtime.attributes, "exception.type").as_deref(),
        Some("ValueError")
    );
    assert_eq!(
        attr(&runtime.attributes, "exception.message").as_deref(),
        Some("bad input")
    );
    assert_eq!(attr(&runtime.attributes, "gen_ai.conversation.id"), None);

    guard.shutdown(Duration::from_secs(20));
}
