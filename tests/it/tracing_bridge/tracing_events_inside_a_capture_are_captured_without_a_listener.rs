use event_center::{EventCenter, EventCenterLayer};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn tracing_events_inside_a_capture_are_captured_without_a_listener() {
    let center = EventCenter::new();
    let layer = EventCenterLayer::new(&center);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(event_type = "tool.before_capture");
        let captured = center.capture_sync(|| {
            tracing::info!(event_type = "tool.classified", label = "billing");
            tracing::debug!(target: "weni::tool", "detail");
            "done"
        });
        tracing::info!(event_type = "tool.after_capture");

        assert_eq!(captured.output, "done");
        let types: Vec<&str> = captured
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(types, ["tool.classified", "tracing.weni.tool"]);
        assert_eq!(captured.events[0].payload["label"], "billing");
    });
}
