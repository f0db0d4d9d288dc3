//! Hooks fail open: a hook that panics or returns an error is counted and
//! reported as `event_center.hook_failed` (to everyone but itself), and the
//! emitter and the other hooks go on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, Level, Patterns};

use crate::support::panics::quiet_expected_panics;
use serde_json::Value;

const BOOM: &str = "hook exploded";

/// Registers a hook named `name` that records the `hook` field of every
/// `event_center.hook_failed` report.
fn failed_hook_names(center: &EventCenter, name: &str) -> Arc<Mutex<Vec<String>>> {
    let names: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = names.clone();
    center
        .register_hook(
            name.to_owned(),
            "event_center.hook_failed",
            move |e: &Event| {
                sink.lock()
                    .unwrap()
                    .push(e.payload["hook"].as_str().unwrap().to_owned());
            },
        )
        .unwrap();
    names
}

/// A hook that always panics.
fn explode(_: &Event) {
    panic!("{}", BOOM);
}

/// An async hook that always panics.
async fn explode_async(_: Arc<Event>) {
    panic!("{}", BOOM);
}

#[derive(Debug, Clone, PartialEq)]
struct Report {
    hook: String,
    event_type: String,
    event_id: String,
    error_message: String,
}

fn report_of(e: &Event) -> Report {
    let error = e
        .error
        .as_deref()
        .expect("a failure report carries the error");
    Report {
        hook: e.payload["hook"].as_str().unwrap().to_owned(),
        event_type: e.payload["event_type"].as_str().unwrap().to_owned(),
        event_id: e.payload["event_id"].as_str().unwrap().to_owned(),
        error_message: error.message.clone(),
    }
}

fn stats_of(center: &EventCenter, name: &str) -> (u64, u64) {
    let stats = center.stats();
    let hook = stats.hooks.iter().find(|h| h.name == name).unwrap();
    (hook.delivered, hook.failed)
}

#[test]
fn failing_hooks_are_counted_and_reported_and_the_rest_go_on() {
    quiet_expected_panics(BOOM);
    const N: usize = 10;
    let center = EventCenter::new();

    center.register_hook("panicker", "work.*", explode).unwrap();
    center
        .register_hook("erring", "work.*", |_: &Event| {
            Err(std::io::Error::other("disk full"))
        })
        .unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    center
        .register_hook("counter", "work.*", move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let reports: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = reports.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();

    let emitted: Arc<Mutex<Vec<String>>> = Arc::default();
    let ids = emitted.clone();
    center
        .register_hook("ids", "work.item", move |e: &Event| {
            ids.lock().unwrap().push(e.event_id.to_string());
        })
        .unwrap();

    let emitter = center.emitter("Worker");
    for i in 0..N {
        emitter
            .emit("work.item")
            .payload(serde_json::json!({ "i": i }))
            .send();
    }

    assert_eq!(count.load(Ordering::SeqCst), N);
    assert_eq!(stats_of(&center, "panicker"), (0, N as u64));
    assert_eq!(stats_of(&center, "erring"), (0, N as u64));
    assert_eq!(stats_of(&center, "counter"), (N as u64, 0));
    assert_eq!(stats_of(&center, "failures"), (2 * N as u64, 0));
    assert_eq!(stats_of(&center, "ids"), (N as u64, 0));
    assert_eq!(center.stats().hook_failures, 2 * N as u64);

    let reports = reports.lock().unwrap();
    let emitted = emitted.lock().unwrap();
    assert_eq!(reports.len(), 2 * N);
    let got: Vec<Report> = reports.iter().map(report_of).collect();
    let expected: Vec<Report> = emitted
        .iter()
        .flat_map(|id| {
            [
                Report {
                    hook: "panicker".into(),
                    event_type: "work.item".into(),
                    event_id: id.clone(),
                    error_message: BOOM.into(),
                },
                Report {
                    hook: "erring".into(),
                    event_type: "work.item".into(),
                    event_id: id.clone(),
                    error_message: "disk full".into(),
                },
            ]
        })
        .collect();
    assert_eq!(got, expected);
    for report in reports.iter() {
        assert_eq!(report.event_type.as_str(), "event_center.hook_failed");
        assert_eq!(report.level, Level::Error);
        assert_eq!(report.source.as_str(), "event_center");
        let hook = report.payload["hook"].as_str().unwrap();
        assert!(
            report.message.as_deref().unwrap().contains(hook),
            "{:?}",
            report.message
        );
    }
}

#[test]
fn the_report_names_the_error_type_of_a_panic_and_of_a_returned_error() {
    quiet_expected_panics(BOOM);
    let center = EventCenter::new();
    center.register_hook("panicker", "work.*", explode).unwrap();
    center
        .register_hook("erring", "work.*", |_: &Event| {
            Err(std::io::Error::other("disk full"))
        })
        .unwrap();
    type ErrorSeen = (String, Option<String>, String);
    let errors: Arc<Mutex<Vec<ErrorSeen>>> = Arc::default();
    let sink = errors.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            let error = e.error.as_deref().unwrap();
            sink.lock().unwrap().push((
                error.error_type.clone(),
                error.module.clone(),
                error.message.clone(),
            ));
        })
        .unwrap();

    center.emitter("Worker").emit("work.item").send();

    // A hook's error arrives as a boxed `dyn Error`: its concrete type is
    // unknown, so the report says "Error" with no module (the fallback that
    // `ErrorInfo::from_error` documents for trait objects), never a fragment
    // of the trait object's type name such as "Sync".
    assert_eq!(
        *errors.lock().unwrap(),
        [
            ("panic".to_owned(), None, BOOM.to_owned()),
            ("Error".to_owned(), None, "disk full".to_owned()),
        ]
    );
}

#[test]
fn a_failing_hook_never_receives_its_own_failure_report() {
    quiet_expected_panics(BOOM);
    const N: usize = 5;
    let center = EventCenter::new();

    // Listens to everything, reports included, and fails on everything.
    let selfish_saw: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let sink = selfish_saw.clone();
    center
        .register_hook("selfish", Patterns::All, move |e: &Event| {
            sink.lock()
                .unwrap()
                .push((e.event_type.to_string(), e.payload["hook"].clone()));
            explode(e);
        })
        .unwrap();
    center
        .register_hook("erring", "work.*", |_: &Event| {
            Err(std::io::Error::other("disk full"))
        })
        .unwrap();
    let listener_saw = failed_hook_names(&center, "listener");

    let emitter = center.emitter("Worker");
    for _ in 0..N {
        emitter.emit("work.item").send();
    }

    let selfish_saw = selfish_saw.lock().unwrap();
    let expected_selfish: Vec<(String, Value)> = (0..N)
        .flat_map(|_| {
            [
                ("work.item".to_owned(), Value::Null),
                (
                    "event_center.hook_failed".to_owned(),
                    Value::String("erring".into()),
                ),
            ]
        })
        .collect();
    assert_eq!(*selfish_saw, expected_selfish);

    let listener_saw = listener_saw.lock().unwrap();
    let expected_listener: Vec<&str> = (0..N).flat_map(|_| ["selfish", "erring"]).collect();
    assert_eq!(*listener_saw, expected_listener);

    // Failing on a report is counted but not reported again.
    assert_eq!(stats_of(&center, "selfish"), (0, 2 * N as u64));
    assert_eq!(stats_of(&center, "erring"), (0, N as u64));
    assert_eq!(stats_of(&center, "listener"), (2 * N as u64, 0));
    assert_eq!(center.stats().hook_failures, 3 * N as u64);
}

#[tokio::test]
async fn send_async_also_fails_open_for_sync_and_async_hooks() {
    quiet_expected_panics(BOOM);
    let center = EventCenter::new();
    center.register_hook("panicker", "work.*", explode).unwrap();
    center
        .register_async_hook("async_panicker", "work.*", explode_async)
        .unwrap();
    center
        .register_async_hook("async_erring", "work.*", |_: Arc<Event>| async move {
            Err(std::io::Error::other("disk full"))
        })
        .unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    center
        .register_async_hook("async_counter", "work.*", move |_: Arc<Event>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    let reports = failed_hook_names(&center, "failures");

    let emitter = center.emitter("Worker");
    emitter.emit("work.item").send_async().await;
    emitter.emit("work.item").send_async().await;

    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(stats_of(&center, "panicker"), (0, 2));
    assert_eq!(stats_of(&center, "async_panicker"), (0, 2));
    assert_eq!(stats_of(&center, "async_erring"), (0, 2));
    assert_eq!(stats_of(&center, "async_counter"), (2, 0));
    assert_eq!(
        *reports.lock().unwrap(),
        [
            "panicker",
            "async_panicker",
            "async_erring",
            "panicker",
            "async_panicker",
            "async_erring"
        ]
    );
    assert_eq!(center.stats().hook_failures, 6);
}

#[tokio::test]
async fn an_async_hook_that_panics_before_returning_its_future_is_contained() {
    quiet_expected_panics(BOOM);
    let center = EventCenter::new();
    let seen = Arc::new(AtomicUsize::new(0));
    center
        .register_async_hook(
            "panics-early",
            "job.*",
            |_: Arc<Event>| -> std::future::Ready<()> { panic!("{BOOM}") },
        )
        .unwrap();
    let counter = seen.clone();
    center
        .register_async_hook("after", "job.*", move |_: Arc<Event>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();

    let emitter = center.emitter("Worker");
    emitter.emit("job.done").send_async().await;
    emitter.emit("job.done").send_async().await;

    assert_eq!(seen.load(Ordering::SeqCst), 2);
    let stats = center.stats();
    assert_eq!(stats.hooks[0].name, "panics-early");
    assert_eq!(stats.hooks[0].failed, 2);
    assert_eq!(stats.hooks[0].delivered, 0);
    assert_eq!(stats.hook_failures, 2);
}
