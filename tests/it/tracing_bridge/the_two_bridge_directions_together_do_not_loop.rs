use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Delivery, Event, EventCenter, EventCenterLayer, Patterns, TracingHook};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts the `tracing` events per target.
struct Targets(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Targets {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        self.0
            .lock()
            .unwrap()
            .push(event.metadata().target().to_owned());
    }
}

#[test]
fn the_two_bridge_directions_together_do_not_loop() {
    // It sets or measures what the whole process shares.
    if crate::support::alone::ran_in_own_process(
        module_path!(),
        "the_two_bridge_directions_together_do_not_loop",
    ) {
        return;
    }
    let center = EventCenter::new();
    let targets: Arc<Mutex<Vec<String>>> = Arc::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(EventCenterLayer::new(&center))
            .with(Targets(targets.clone())),
    )
    .unwrap();

    // Out of the center: one background hook, one inline, both on every type.
    let _background = TracingHook::builder()
        .with_patterns(Patterns::All)
        .register(&center, "tracing-bg")
        .unwrap();
    let _inline = TracingHook::builder()
        .with_delivery(Delivery::Inline)
        .with_patterns(Patterns::All)
        .register(&center, "tracing-inline")
        .unwrap();
    // An inline hook that itself logs through tracing.
    let center_events: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = center_events.clone();
    let chatty = Arc::new(AtomicUsize::new(0));
    let count = chatty.clone();
    center
        .register_hook("chatty", Patterns::All, move |e: &Event| {
            count.fetch_add(1, Ordering::SeqCst);
            sink.lock().unwrap().push(e.event_type.to_string());
            tracing::info!(target: "chatty", "saw {}", e.event_type);
        })
        .unwrap();

    // From the center out to tracing ...
    center.emitter("Planner").emit("model.completed").send();
    // ... and from tracing into the center.
    tracing::info!(target: "app", event_type = "order.created", "order created");

    let report = center.flush(Duration::from_secs(10));
    assert!(report.is_complete(), "{report:?}");

    // The center saw each event once, and nothing came back in: the
    // re-emitted `model.completed` stayed out, and so did what `chatty`
    // logged while the layer was delivering to it (its log about
    // `model.completed` was an ordinary log of the application: it came in
    // once as `tracing.chatty`, and its log about that one stayed out).
    assert_eq!(
        *center_events.lock().unwrap(),
        ["model.completed", "tracing.chatty", "order.created"]
    );
    assert_eq!(chatty.load(Ordering::SeqCst), 3);
    assert_eq!(center.stats().recursion_cut, 0);

    let mut targets = targets.lock().unwrap().clone();
    targets.sort();
    // `model.completed` re-emitted by both hooks; the events that came from
    // tracing (`order.created`, `tracing.chatty`) not re-emitted; the
    // application's own event once and chatty's three logs.
    assert_eq!(
        targets,
        [
            "app",
            "chatty",
            "chatty",
            "chatty",
            "event_center",
            "event_center"
        ]
    );
}
