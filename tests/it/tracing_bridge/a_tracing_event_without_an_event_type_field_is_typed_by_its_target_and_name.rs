use event_center::{EventCenter, EventCenterLayer, Level, Patterns};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn a_tracing_event_without_an_event_type_field_is_typed_by_its_target_and_name() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "all", Patterns::All);

    let layer = EventCenterLayer::new(&center);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(target: "myapp::db", rows = 3, "query failed");
        tracing::event!(name: "pool_exhausted", target: "myapp::db", tracing::Level::INFO, size = 8);
        // The same line of code twice: the same type (no line numbers in it).
        for _ in 0..2 {
            tracing::debug!("plain");
        }
    });

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| e.event_type.as_str()).collect();
    let module = format!("tracing.{}", module_path!().replace("::", "."));
    assert_eq!(
        types,
        [
            "tracing.myapp.db",
            "tracing.myapp.db.pool_exhausted",
            module.as_str(),
            module.as_str()
        ]
    );
    assert_eq!(seen[0].level, Level::Error);
    assert_eq!(seen[0].source, "tracing");
    assert_eq!(seen[0].message.as_deref(), Some("query failed"));
    assert_eq!(seen[0].payload["rows"], 3);
    assert_eq!(seen[1].level, Level::Info);
    assert_eq!(seen[1].message, None);
    assert_eq!(seen[3].level, Level::Debug);
}
