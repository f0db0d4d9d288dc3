use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{ErrorInfo, EventCenter, Patterns, RunContext, TracingHook};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// One `tracing` event as a test sees it.
#[derive(Debug)]
struct Seen {
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, String>,
}

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields: fields.0,
        });
    }
}

#[test]
fn the_tracing_hook_re_emits_center_events_at_their_level_with_their_fields() {
    // It sets or measures what the whole process shares.
    if crate::support::alone::ran_in_own_process(
        module_path!(),
        "the_tracing_hook_re_emits_center_events_at_their_level_with_their_fields",
    ) {
        return;
    }
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    // The global subscriber: the hook's background worker thread sees it.
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Recorder(seen.clone())),
    )
    .unwrap();

    let center = EventCenter::new();
    let guard = TracingHook::builder()
        .with_patterns(Patterns::All)
        .register(&center, "tracing")
        .unwrap();
    let run = RunContext::new("agent_execution").with_run_id("run-1");
    let emitter = center.emitter("Planner").with_run(run);

    emitter.debug("thinking").send();
    emitter
        .emit("model.completed")
        .payload(serde_json::json!({"tokens": 42}))
        .send();
    emitter.warning("low budget").send();
    emitter
        .emit("tool.failed")
        .level(event_center::Level::Error)
        .error(ErrorInfo::new("Timeout", "no answer in 30 s"))
        .send();
    emitter.critical("out of money").send();

    let report = guard.flush(Duration::from_secs(10));
    assert!(report.is_complete(), "{report:?}");
    assert_eq!((report.accepted, report.delivered), (5, 5), "{report:?}");

    let seen = seen.lock().unwrap();
    let levels: Vec<tracing::Level> = seen.iter().map(|s| s.level).collect();
    use tracing::Level as L;
    assert_eq!(levels, [L::DEBUG, L::INFO, L::WARN, L::ERROR, L::ERROR]);
    assert!(seen.iter().all(|s| s.target == "event_center"));
    for s in seen.iter() {
        assert_eq!(s.fields["source"], "Planner");
        assert_eq!(s.fields["run_id"], "run-1");
        assert_eq!(s.fields["event_id"].len(), 32);
    }
    assert_eq!(seen[0].fields["event_type"], "runtime.debug");
    assert_eq!(seen[0].fields["message"], "thinking");
    assert_eq!(seen[1].fields["event_type"], "model.completed");
    assert_eq!(seen[1].fields["payload"], r#"{"tokens":42}"#);
    assert!(!seen[1].fields.contains_key("message"));
    assert!(
        !seen[0].fields.contains_key("payload"),
        "a null payload is left out"
    );
    assert_eq!(seen[3].fields["error"], "Timeout: no answer in 30 s");
    assert_eq!(seen[4].fields["event_type"], "runtime.critical");
    assert_eq!(seen[4].fields["message"], "out of money");
}
