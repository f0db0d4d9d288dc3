use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, EventCenterLayer, Patterns};
use tracing_subscriber::layer::SubscriberExt;

fn recorded(center: &EventCenter) -> Arc<Mutex<Vec<Event>>> {
    crate::support::record(center, "all", Patterns::All)
}

#[test]
fn two_layers_into_two_centers_can_share_one_subscriber() {
    let (first, second) = (EventCenter::new(), EventCenter::new());
    let (seen_first, seen_second) = (recorded(&first), recorded(&second));

    let subscriber = tracing_subscriber::registry()
        .with(EventCenterLayer::new(&first).with_spans(true))
        .with(EventCenterLayer::new(&second).with_spans(true));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("job", tenant = "demo");
        span.in_scope(|| tracing::info!(event_type = "job.ran"));
        span.record("tenant", "other");
    });

    for seen in [&seen_first, &seen_second] {
        let seen = seen.lock().unwrap();
        let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            ["tracing.span_started", "job.ran", "tracing.span_ended"]
        );
        assert_eq!(seen[1].run.as_ref().unwrap().meta["tenant"], "demo");
        // The span's later record reaches the run of its later events.
        assert_eq!(seen[2].run.as_ref().unwrap().meta["tenant"], "other");
    }
    // One span, one run, whichever center looks at it.
    let run_first = seen_first.lock().unwrap()[1].run.clone().unwrap();
    let run_second = seen_second.lock().unwrap()[1].run.clone().unwrap();
    assert_eq!(run_first.run_id, run_second.run_id);
}
