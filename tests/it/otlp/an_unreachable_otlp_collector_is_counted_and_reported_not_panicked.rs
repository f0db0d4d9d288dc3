//! An OTLP collector that refuses connections costs the emitter nothing:
//! the failed exports are counted as the hook's failures and reported as
//! `event_center.hook_failed` events naming the endpoint, and the guard's
//! numbers say what went wrong.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter, OtlpExporter};

#[test]
fn an_unreachable_otlp_collector_is_counted_and_reported_not_panicked() {
    // A port nobody listens on: bound, then closed.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");

    let center = EventCenter::new();
    let reports = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = reports.clone();
    center
        .register_hook(
            "failures",
            "event_center.hook_failed",
            move |event: &Event| {
                if event.payload["hook"] == "otlp" {
                    seen.lock()
                        .unwrap()
                        .push(event.message.as_deref().unwrap_or("").to_owned());
                }
            },
        )
        .unwrap();
    let guard = OtlpExporter::builder()
        .with_endpoint(&endpoint)
        .with_batch_delay(Duration::from_millis(50))
        .with_retries(0)
        .with_timeout(Duration::from_secs(2))
        .with_flush_timeout(Duration::from_secs(10))
        .register(&center, "otlp")
        .unwrap();

    // The emitter goes on; the first failed export is reported by a later
    // delivery. Bounded: at most 200 events, 20 s.
    let emitter = center.emitter("Agent");
    let started = Instant::now();
    let mut emitted = 0;
    while reports.lock().unwrap().is_empty()
        && emitted < 200
        && started.elapsed() < Duration::from_secs(20)
    {
        emitter.emit("agent.step").send();
        emitted += 1;
        center.flush(Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(50));
    }
    let reports = reports.lock().unwrap().clone();
    assert!(
        !reports.is_empty(),
        "no hook_failed report after {emitted} events"
    );
    assert!(reports[0].contains(&endpoint), "{}", reports[0]);
    assert!(reports[0].contains("/v1/logs"), "{}", reports[0]);

    let stats = center.stats();
    let otlp = stats.hooks.iter().find(|h| h.name == "otlp").unwrap();
    assert!(otlp.failed >= 1, "{otlp:?}");
    assert_eq!(otlp.delivered + otlp.failed, emitted, "{otlp:?}");

    // More events, then a flush: the guard's numbers say what went wrong.
    for _ in 0..10 {
        emitter.emit("agent.step").send();
    }
    let report = guard.flush(Duration::from_secs(10));
    assert_eq!(report.accepted, emitted + 10, "{report:?}");
    assert!(report.failed >= 1, "{report:?}");
    let stats = guard.stats();
    assert!(stats.failed_exports >= 1, "{stats:?}");
    assert!(stats.failed_items >= 1, "{stats:?}");
    let error = stats.last_error.unwrap();
    assert!(error.contains(&endpoint), "{error}");

    // Shutting down does not hang or panic either.
    let report = guard.shutdown(Duration::from_secs(10));
    assert_eq!(report.accepted, emitted + 10, "{report:?}");
    emitter.emit("agent.step").send();
}
