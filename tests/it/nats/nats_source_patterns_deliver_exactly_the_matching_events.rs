//! A `NatsSource` hands over exactly the events its patterns match, as
//! `PatternSet` decides: an exact type (filtered by the server on its
//! subject), a family `x.*` (filtered on `<prefix>.x.>`), and patterns no
//! subject filter can express (filtered on `<prefix>.>`, then by the
//! patterns). Event types NATS subjects cannot carry as they are (spaces,
//! `*`, `>`, empty parts) travel too, each on a valid subject of its own.

use std::time::{Duration, Instant};

use event_center::{
    Delivery, Event, EventCenter, NatsSink, NatsSource, Overflow, PatternSet, Patterns,
};
use event_center_test_support::nats_server::NatsServer;

const PREFIX: &str = "evt";
const TYPES: [&str; 16] = [
    "model.completed",
    "model.requested",
    "model.request_1",
    "model.request_12",
    "model.response.delta",
    "modelx.completed",
    "model",
    "tool.called",
    "tool.completed",
    "my tool.started",
    "my tool",
    "weird.*",
    "weird.>",
    "a..b",
    ".leading",
    "trailing.",
];

/// The ids of the published events whose type `patterns` match, sorted.
fn expected(published: &[Event], patterns: &Patterns) -> Vec<String> {
    let set = PatternSet::new(patterns.clone()).unwrap();
    let mut ids: Vec<String> = published
        .iter()
        .filter(|e| set.matches(&e.event_type))
        .map(|e| e.event_id.to_string())
        .collect();
    ids.sort();
    ids
}

/// Whether NATS delivers `subject` to a consumer filtering on `filter`
/// (`>` as the last token matches one or more tokens).
fn under(filter: &str, subject: &str) -> bool {
    match filter.strip_suffix('>') {
        Some(stem) => subject.starts_with(stem) && subject.len() > stem.len(),
        None => subject == filter,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_source_patterns_deliver_exactly_the_matching_events() {
    let server = NatsServer::start();
    let url = server.url();

    // Three events of every type.
    let published: Vec<Event> = (0..3)
        .flat_map(|_| TYPES.iter().map(|t| Event::new(*t)))
        .collect();
    let sent = published.clone();
    let sink_url = url.clone();
    tokio::task::spawn_blocking(move || {
        let center = EventCenter::new();
        let guard = NatsSink::builder(sink_url)
            .with_prefix(PREFIX)
            .with_delivery(Delivery::background(1024, Overflow::Block))
            .register(&center, "nats")
            .unwrap();
        for event in sent {
            center.emit_event(event);
        }
        guard.flush(Duration::from_secs(30));
        let stats = guard.stats();
        guard.shutdown(Duration::from_secs(30));
        assert_eq!((stats.published, stats.lost), (48, 0), "{stats:?}");
    })
    .await
    .unwrap();

    // Every event is in the stream, each type on a valid subject of its own.
    let stored = event_center_test_support::nats_server::stream_contents(&url, "EVENTS").await;
    assert_eq!(stored.messages, 48);
    for subject in &stored.subjects {
        let tokens: Vec<&str> = subject.split('.').collect();
        assert!(
            tokens.iter().all(|t| !t.is_empty()
                && *t != "*"
                && *t != ">"
                && t.bytes().all(|b| b.is_ascii_graphic())),
            "{subject:?} is not a valid subject"
        );
    }
    let mut subjects = stored.subjects.clone();
    subjects.sort();
    subjects.dedup();
    assert_eq!(
        subjects.len(),
        TYPES.len(),
        "types share a subject: {subjects:?}"
    );

    let cases: Vec<(&str, Patterns, &str)> = vec![
        ("exact", "model.completed".into(), "evt.model.completed"),
        ("family", "model.*".into(), "evt.model.>"),
        ("odd family", "my tool.*".into(), "evt.my%20tool.>"),
        ("glob after a dot", "model.request_?".into(), "evt.model.>"),
        ("glob before the first dot", "*.completed".into(), "evt.>"),
        ("literal star", "weird.[*]".into(), "evt.weird.>"),
        ("several", ["tool.*", "model.completed"].into(), "evt.>"),
        ("empty part", "a..b".into(), "evt.a.%.b"),
        ("all", Patterns::All, "evt.>"),
    ];
    for (case, patterns, filter) in cases {
        let want = expected(&published, &patterns);
        assert!(!want.is_empty(), "{case}: the case matches nothing");
        let source = NatsSource::builder(&url, format!("case-{}", case.replace(' ', "-")))
            .with_prefix(PREFIX)
            .with_patterns(patterns.clone())
            .with_batch(100, Duration::from_millis(20))
            .build()
            .await
            .unwrap();
        assert_eq!(source.filter_subject(), filter, "{case}");
        let got = std::sync::Mutex::new(Vec::new());
        let stop = async {
            let deadline = Instant::now() + Duration::from_secs(30);
            while got.lock().unwrap().len() < want.len() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Anything that should not come would come now.
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let stats = source
            .run(stop, |events: Vec<Event>| {
                got.lock()
                    .unwrap()
                    .extend(events.iter().map(|e| e.event_id.to_string()));
                async { Ok::<(), std::io::Error>(()) }
            })
            .await;
        let mut got = got.into_inner().unwrap();
        got.sort();
        assert_eq!(got, want, "{case}: {patterns:?}");
        assert_eq!(stats.delivered, want.len() as u64, "{case}: {stats:?}");
        assert_eq!(stats.rejected, 0, "{case}: {stats:?}");
        // The server filtered on the subject: the source saw only those.
        let sent_to_source = stored.subjects.iter().filter(|s| under(filter, s)).count();
        assert_eq!(
            stats.filtered as usize,
            sent_to_source - want.len(),
            "{case}: {stats:?}"
        );
    }
}
