//! Runs arrive at a real OTLP/HTTP receiver as spans: one trace per root
//! run, each child's parent span its parent run's, the real run ids kept as
//! attributes, a failed run's status an error, and a run still open at
//! shutdown ended at its last event.

use std::time::Duration;

use crate::support::otlp_receiver::{attr, hex, OtlpReceiver};
use event_center::{ErrorInfo, Event, EventCenter, OtlpExporter, RunContext};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::json;

#[test]
fn otlp_runs_become_spans_whose_parents_follow_run_lineage() {
    let receiver = OtlpReceiver::start();
    let center = EventCenter::new();
    let guard = OtlpExporter::builder()
        .with_endpoint(&receiver.endpoint)
        .with_batch_delay(Duration::from_millis(100))
        .register(&center, "otlp")
        .unwrap();

    let root = RunContext::new("agent_execution").with_session_id("conversation-9");
    let model = root.child("model_request");
    let action = model.child("action");
    let at = |event_type: &str, run: &RunContext, ms: i64| {
        Event::new(event_type.to_owned())
            .with_source("Agent")
            .with_run(run.clone())
            .with_timestamp(1_700_000_000_000 + ms)
    };
    center.emit_event(at("agent.started", &root, 0));
    center.emit_event(
        at("model.requesting", &model, 10).with_payload(json!({"model": "gpt-4o-mini"})),
    );
    center.emit_event(at("action.started", &action, 20));
    center.emit_event(at("action.completed", &action, 35));
    center.emit_event(
        at("model.failed", &model, 50).with_error(ErrorInfo::new("TimeoutError", "no answer")),
    );
    center.emit_event(at("agent.step", &root, 70));
    guard.shutdown(Duration::from_secs(20)); // ends the root run, still open

    let (_, spans) = receiver.collect_until(Duration::from_secs(20), |_, spans| spans.len() >= 3);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let span = |run: &RunContext| {
        spans
            .iter()
            .find(|s| attr(&s.attributes, "event_center.run_id").as_deref() == Some(&run.run_id))
            .unwrap_or_else(|| panic!("no span for run {}", run.run_kind))
    };
    let (root_span, model_span, action_span) = (span(&root), span(&model), span(&action));

    // One trace, named after the root run.
    for s in [root_span, model_span, action_span] {
        assert_eq!(hex(&s.trace_id), root.run_id);
        assert_eq!(
            attr(&s.attributes, "event_center.root_run_id"),
            Some(root.run_id.clone())
        );
        assert_eq!(
            attr(&s.attributes, "gen_ai.conversation.id").as_deref(),
            Some("conversation-9")
        );
    }
    // Span ids from run ids, parents from run lineage.
    assert_eq!(hex(&root_span.span_id), root.run_id[16..]);
    assert!(root_span.parent_span_id.is_empty());
    assert_eq!(model_span.parent_span_id, root_span.span_id);
    assert_eq!(action_span.parent_span_id, model_span.span_id);
    assert_eq!(
        attr(&action_span.attributes, "event_center.parent_run_id"),
        Some(model.run_id.clone())
    );

    // Names, times and status.
    assert_eq!(
        (
            root_span.name.as_str(),
            model_span.name.as_str(),
            action_span.name.as_str()
        ),
        ("agent_execution", "model_request", "action")
    );
    let ns = |ms: u64| (1_700_000_000_000 + ms) * 1_000_000;
    assert_eq!(
        (
            action_span.start_time_unix_nano,
            action_span.end_time_unix_nano
        ),
        (ns(20), ns(35))
    );
    assert_eq!(
        (
            model_span.start_time_unix_nano,
            model_span.end_time_unix_nano
        ),
        (ns(10), ns(50))
    );
    assert_eq!(
        (root_span.start_time_unix_nano, root_span.end_time_unix_nano),
        (ns(0), ns(70))
    );
    let code =
        |s: &opentelemetry_proto::tonic::trace::v1::Span| s.status.as_ref().map(|st| st.code);
    assert_eq!(code(model_span), Some(StatusCode::Error as i32));
    assert!(model_span
        .status
        .as_ref()
        .unwrap()
        .message
        .contains("no answer"));
    assert_eq!(code(action_span), Some(StatusCode::Ok as i32));
    assert_eq!(
        attr(&model_span.attributes, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        attr(&model_span.attributes, "gen_ai.operation.name").as_deref(),
        Some("chat")
    );
}
