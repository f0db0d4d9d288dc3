use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use event_center::{Event, EventCenter, EventCenterLayer};
use tracing_subscriber::layer::SubscriberExt;

static FORMATTED: AtomicUsize = AtomicUsize::new(0);

/// A field value that counts how often it is formatted.
struct Expensive;

impl fmt::Debug for Expensive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::SeqCst);
        f.write_str("expensive")
    }
}

#[test]
fn the_tracing_layer_builds_nothing_when_no_hook_listens() {
    let center = EventCenter::new();
    center
        .register_hook("other", "billing.*", |_: &Event| {})
        .unwrap();

    let layer = EventCenterLayer::new(&center).with_spans(true);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..100 {
            tracing::info_span!("step").in_scope(|| {
                tracing::info!(event_type = "order.created", detail = ?Expensive);
                tracing::info!(target: "myapp::db", detail = ?Expensive, "query");
            });
        }
        assert_eq!(FORMATTED.load(Ordering::SeqCst), 0, "nothing was formatted");
        assert_eq!(center.stats().last_seq, 0, "no event was built");

        // Once someone listens, the same events are built.
        center
            .register_hook("orders", "order.*", |_: &Event| {})
            .unwrap();
        tracing::info!(event_type = "order.created", detail = ?Expensive);
        tracing::info!(target: "myapp::db", detail = ?Expensive, "query");
    });
    assert_eq!(FORMATTED.load(Ordering::SeqCst), 1);
    assert_eq!(center.stats().last_seq, 1);
}
