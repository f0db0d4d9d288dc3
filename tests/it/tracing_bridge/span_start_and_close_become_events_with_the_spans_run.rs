use event_center::{EventCenter, EventCenterLayer, Level, Patterns};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn span_start_and_close_become_events_with_the_spans_run() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "all", Patterns::All);

    let layer = EventCenterLayer::new(&center).with_spans(true);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::warn_span!("tool_call", tool = "search").in_scope(|| {
            tracing::info!(event_type = "tool.called");
        });
    });

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["tracing.span_started", "tool.called", "tracing.span_ended"]
    );
    assert_eq!(EventCenterLayer::SPAN_STARTED, "tracing.span_started");
    assert_eq!(EventCenterLayer::SPAN_ENDED, "tracing.span_ended");

    let (started, inside, ended) = (&seen[0], &seen[1], &seen[2]);
    assert_eq!(started.level, Level::Warning);
    assert_eq!(started.message.as_deref(), Some("tool_call"));
    assert_eq!(started.payload["tool"], "search");
    assert!(ended.payload["elapsed_ms"].as_f64().unwrap() >= 0.0);
    let run = started.run.as_ref().unwrap();
    assert_eq!(run.run_kind, "tool_call");
    assert_eq!(inside.run.as_ref().unwrap().run_id, run.run_id);
    assert_eq!(ended.run.as_ref().unwrap().run_id, run.run_id);
}
