//! Captures nest: an event belongs to the innermost capture and to every
//! enclosing capture on the same center, so the outer execution holds all
//! of its events in order; a capture on another center takes none of them.

use event_center::EventCenter;

fn types(events: &[std::sync::Arc<event_center::Event>]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn nested_captures_give_inner_events_to_both() {
    let center = EventCenter::new();
    let other = EventCenter::new();
    let emitter = center.emitter("Agent");
    let stranger = other.emitter("Other");

    let outer = center
        .capture(async {
            emitter.emit("agent.started").send();
            let inner = center
                .capture(async {
                    emitter.emit("tool.called").send();
                    stranger.emit("other.event").send();
                    let nested_other = other.capture_sync(|| emitter.emit("tool.step").send());
                    assert!(nested_other.events.is_empty());
                })
                .await;
            emitter.emit("agent.finished").send();
            inner
        })
        .await;

    assert_eq!(types(&outer.output.events), ["tool.called", "tool.step"]);
    assert_eq!(
        types(&outer.events),
        [
            "agent.started",
            "tool.called",
            "tool.step",
            "agent.finished"
        ]
    );
    assert!(std::sync::Arc::ptr_eq(
        &outer.output.events[0],
        &outer.events[1]
    ));
}
