//! A coalescing hook's buffer, with no flush trigger of its own (no
//! `max_items`, no `emit_interval`, idle flush off), is not lost: `flush`
//! delivers it as one summary, `shutdown` delivers it before its report
//! (which counts every buffered event as delivered, nothing pending), and
//! `unregister_hook` hands it to the hook as a last summary, which the
//! hook's worker delivers after `unregister_hook` has returned.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{CoalescePolicy, Delivery, Event, EventCenter, HookOptions, Overflow, Patterns};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);
const BUFFERED: u64 = 7;

type Seen = Arc<Mutex<Vec<Event>>>;

/// Buffers until told otherwise: no trigger but flush, shutdown, unregister
/// and an event that is not high-frequency.
fn no_trigger() -> CoalescePolicy {
    CoalescePolicy::new()
        .with_max_items(1_000_000)
        .with_idle_flush(Duration::ZERO)
}

fn record(
    center: &EventCenter,
    name: &str,
    patterns: impl Into<Patterns>,
    options: HookOptions,
) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(name.to_owned(), patterns, options, move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();
    seen
}

fn coalescing(delivery: Delivery) -> HookOptions {
    HookOptions::new().with_delivery(delivery)
}

fn emit_deltas(center: &EventCenter, n: u64) {
    let emitter = center.emitter("Model");
    for i in 0..n {
        emitter
            .emit("model.response.delta")
            .payload(json!({"delta": format!("t{i}")}))
            .send();
    }
}

fn summary_count(event: &Event) -> u64 {
    assert_eq!(event.meta["coalesced"], true, "not a summary: {event:?}");
    event.meta["coalesced_count"].as_u64().unwrap()
}

#[test]
fn flush_delivers_the_buffer_as_one_summary() {
    let center = EventCenter::new();
    let ui = record(
        &center,
        "ui",
        "*",
        coalescing(Delivery::coalesce(no_trigger())),
    );
    emit_deltas(&center, BUFFERED);

    // Well past the default idle time (100 ms): with the idle flush off,
    // nothing goes out by itself.
    std::thread::sleep(Duration::from_millis(300));
    assert!(ui.lock().unwrap().is_empty());
    let stats = center.stats();
    assert_eq!(
        (stats.hooks[0].accepted, stats.hooks[0].pending),
        (BUFFERED, BUFFERED)
    );

    let report = center.flush(WAIT);
    assert_eq!(
        (
            report.accepted,
            report.delivered,
            report.dropped,
            report.pending
        ),
        (BUFFERED, BUFFERED, 0, 0)
    );
    let got = ui.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(summary_count(&got[0]), BUFFERED);
    assert_eq!(got[0].payload["last_payload"], json!({"delta": "t6"}));

    // Flushing an empty buffer sends nothing more.
    let report = center.flush(WAIT);
    assert_eq!((report.delivered, report.pending), (BUFFERED, 0));
    assert_eq!(ui.lock().unwrap().len(), 1);
}

#[test]
fn shutdown_delivers_the_buffer_before_it_reports() {
    let center = EventCenter::new();
    let ui = record(
        &center,
        "ui",
        "*",
        coalescing(Delivery::coalesce(no_trigger())),
    );
    emit_deltas(&center, BUFFERED);

    let report = center.shutdown(WAIT);
    // Delivered by the time shutdown returns.
    let got = ui.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(summary_count(&got[0]), BUFFERED);
    assert_eq!(
        (
            report.accepted,
            report.delivered,
            report.failed,
            report.dropped,
            report.pending
        ),
        (BUFFERED, BUFFERED, 0, 0, 0)
    );
    assert!(report.is_complete());
    let hook = &report.hooks[0];
    assert_eq!(hook.name, "ui");
    assert_eq!(
        (hook.accepted, hook.delivered, hook.pending),
        (BUFFERED, BUFFERED, 0)
    );
}

#[test]
fn unregistering_the_hook_hands_its_buffer_over_as_a_last_summary() {
    let center = EventCenter::new();
    // Drops of queued events (if any) are reported: the listener counts them.
    let dropped = record(
        &center,
        "drops",
        "event_center.events_dropped",
        HookOptions::new(),
    );
    // A queue of one that blocks the emitter: an emit returns only once the
    // worker has taken the event before it out of the queue, and the worker
    // takes a job only after it has handled the previous one.
    let ui = record(
        &center,
        "ui",
        "*",
        coalescing(Delivery::Coalesce {
            policy: no_trigger(),
            capacity: 1,
            overflow: Overflow::Block,
        }),
    );
    // So after these emits the first `BUFFERED` deltas are in the buffer for
    // sure; the two after them are buffered or still queued.
    let emitted = BUFFERED + 2;
    emit_deltas(&center, emitted);
    assert!(ui.lock().unwrap().is_empty());

    assert!(center.unregister_hook("ui"));
    // The worker hands the buffer over after `unregister_hook` returned:
    // wait for it (bounded), and for the report of the queued events it
    // dropped, if any.
    let deadline = Instant::now() + WAIT;
    let (summaries, unregistered) = loop {
        let summaries = ui.lock().unwrap().clone();
        let unregistered: u64 = dropped
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.payload["hook"] == "ui")
            .map(|r| r.payload["dropped"].as_u64().unwrap())
            .sum();
        let handed: u64 = summaries.iter().map(summary_count).sum();
        if handed + unregistered == emitted || Instant::now() >= deadline {
            break (summaries, unregistered);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        summaries.len(),
        1,
        "one last summary after unregister, got {summaries:?}"
    );
    let count = summary_count(&summaries[0]);
    assert!(
        count >= BUFFERED,
        "the summary covers {count} events, fewer than the {BUFFERED} that were buffered"
    );
    assert_eq!(
        count + unregistered,
        emitted,
        "every event is in the summary or reported dropped as unregistered"
    );
    // Reports carry running totals: the last one has them all.
    if let Some(report) = dropped.lock().unwrap().last() {
        assert_eq!(report.payload["total"]["unregistered"], unregistered);
        assert_eq!(report.payload["total"]["queue_full"], 0);
    }
    assert_eq!(
        summaries[0].payload["events"][0]["payload"]["delta"],
        Value::from("t0")
    );

    // Nothing else arrives afterwards, and the hook is gone.
    let report = center.flush(WAIT);
    assert_eq!(report.pending, 0);
    assert_eq!(ui.lock().unwrap().len(), 1);
    assert!(!center.hook_names().contains(&"ui".to_owned()));
    center.emitter("Model").emit("model.response.delta").send();
    center.flush(WAIT);
    assert_eq!(ui.lock().unwrap().len(), 1);
}

#[test]
fn an_unregistered_hook_with_an_empty_buffer_receives_nothing_more() {
    let center = EventCenter::new();
    let ui = record(
        &center,
        "ui",
        Patterns::All,
        coalescing(Delivery::coalesce(no_trigger())),
    );
    emit_deltas(&center, 3);
    center.flush(WAIT);
    assert_eq!(ui.lock().unwrap().len(), 1);

    assert!(center.unregister_hook("ui"));
    let report = center.flush(WAIT);
    assert_eq!(report.pending, 0);
    assert_eq!(
        ui.lock().unwrap().len(),
        1,
        "no empty summary at unregister"
    );
}
