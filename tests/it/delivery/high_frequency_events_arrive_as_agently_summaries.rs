//! A hook registered with `Delivery::coalesce` receives high-frequency events
//! (`*.delta`, `*_delta`, `meta.high_frequency == true`,
//! `meta.frequency == "high"`, `triggerflow.stream_item_emitted`,
//! `model.response.delta`, `response.delta`, `payload.event_type == "delta"`,
//! a string `payload.delta`) as Agently's summary events: buffered, then
//! flushed after `max_items` events, after `emit_interval`, after an idle
//! time (100 ms unless set), before any other event (which then arrives
//! itself), or at `flush`. The summary carries Agently's meta and payload
//! (the last 20 events by default), a `seq` of its own, and counts every
//! original event once as delivered.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{
    CoalescePolicy, Delivery, Event, EventCenter, HookOptions, Level, Patterns, RunContext,
};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);

type Seen = Arc<Mutex<Vec<(Instant, Event)>>>;

/// A center with two hooks on every event: `originals`, inline and
/// unredacted, records each event as emitted; `ui` coalesces under `policy`.
struct Setup {
    center: EventCenter,
    originals: Seen,
    ui: Seen,
}

fn setup(policy: CoalescePolicy) -> Setup {
    let center = EventCenter::new();
    let originals = record(
        &center,
        "originals",
        HookOptions::new().with_redaction(false),
    );
    let ui = record(
        &center,
        "ui",
        HookOptions::new().with_delivery(Delivery::coalesce(policy)),
    );
    Setup {
        center,
        originals,
        ui,
    }
}

fn record(center: &EventCenter, name: &str, options: HookOptions) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(name.to_owned(), Patterns::All, options, move |e: &Event| {
            sink.lock().unwrap().push((Instant::now(), e.clone()));
        })
        .unwrap();
    seen
}

fn events(seen: &Seen) -> Vec<Event> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect()
}

/// Only the idle flush switched off: buffers wait for an explicit trigger.
fn no_idle() -> CoalescePolicy {
    CoalescePolicy::new().with_idle_flush(Duration::ZERO)
}

fn is_summary(event: &Event) -> bool {
    event.meta.get("coalesced") == Some(&Value::Bool(true))
}

fn count_of(summary: &Event) -> u64 {
    summary.meta["coalesced_count"].as_u64().unwrap()
}

/// Polls `seen` until it holds at least `n` events; panics after `WAIT`.
fn wait_for(seen: &Seen, n: usize) -> Vec<(Instant, Event)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = seen.lock().unwrap().clone();
        if now.len() >= n {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} for {n} events, got {}: {:?}",
            now.len(),
            now.iter().map(|(_, e)| &e.event_type).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn hook_stats(center: &EventCenter, name: &str) -> event_center::HookStats {
    center
        .stats()
        .hooks
        .into_iter()
        .find(|h| h.name == name)
        .unwrap()
}

#[test]
fn every_high_frequency_criterion_buffers_the_event() {
    type Emit = fn(&event_center::Emitter);
    let cases: [(&str, Emit); 9] = [
        ("type ending in .delta", |e| {
            e.emit("agent.text.delta").send()
        }),
        ("type ending in _delta", |e| {
            e.emit("model.reasoning_delta").send()
        }),
        ("meta.high_frequency == true", |e| {
            e.emit("custom.tick").meta("high_frequency", true).send()
        }),
        ("meta.frequency == \"high\"", |e| {
            e.emit("custom.tick").meta("frequency", "high").send()
        }),
        ("triggerflow.stream_item_emitted", |e| {
            e.emit("triggerflow.stream_item_emitted").send()
        }),
        ("model.response.delta", |e| {
            e.emit("model.response.delta").send()
        }),
        ("response.delta", |e| e.emit("response.delta").send()),
        ("payload.delta is a string", |e| {
            e.emit("custom.chunk")
                .payload(json!({"delta": "tok"}))
                .send()
        }),
        ("payload.event_type == \"delta\"", |e| {
            e.emit("custom.chunk")
                .payload(json!({"event_type": "delta"}))
                .send()
        }),
    ];
    for (criterion, emit) in cases {
        let s = setup(no_idle());
        let emitter = s.center.emitter("Model");
        for _ in 0..3 {
            emit(&emitter);
        }
        let originals = events(&s.originals);
        assert_eq!(originals.len(), 3, "{criterion}");
        // Nothing triggers a flush but this call.
        let report = s.center.flush(WAIT);
        assert_eq!((report.delivered, report.pending), (3, 0), "{criterion}");

        let got = events(&s.ui);
        assert_eq!(got.len(), 1, "{criterion}: one summary, got {got:?}");
        let summary = &got[0];
        assert!(is_summary(summary), "{criterion}: {summary:?}");
        assert_eq!(count_of(summary), 3, "{criterion}");
        assert_eq!(summary.payload["count"], 3, "{criterion}");
        assert_eq!(summary.event_type, originals[2].event_type, "{criterion}");
        s.center.shutdown(WAIT);
    }
}

#[test]
fn events_that_are_not_high_frequency_arrive_one_by_one() {
    let s = setup(no_idle());
    let emitter = s.center.emitter("Model");
    emitter.emit("model.completed").send();
    emitter.emit("model.delta.done").send();
    emitter
        .emit("custom.tick")
        .meta("high_frequency", "true")
        .send();
    emitter.emit("custom.tick").meta("frequency", "HIGH").send();
    emitter
        .emit("custom.chunk")
        .payload(json!({"delta": 3}))
        .send();
    emitter.emit("workflow.stream_item_emitted").send();
    s.center.flush(WAIT);

    let got = events(&s.ui);
    let originals = events(&s.originals);
    assert_eq!(got.len(), 6, "{got:?}");
    for (got, original) in got.iter().zip(&originals) {
        assert!(!is_summary(got), "{got:?}");
        assert_eq!(got.event_id, original.event_id);
    }
}

#[test]
fn a_buffer_is_flushed_when_it_holds_max_items_events() {
    let s = setup(no_idle().with_max_items(5));
    let emitter = s.center.emitter("Model");
    for i in 0..12 {
        emitter
            .emit("model.response.delta")
            .payload(json!({"delta": format!("t{i}")}))
            .send();
    }
    // Two summaries of 5 went out by themselves; the flush sends the last 2.
    s.center.flush(WAIT);
    let counts: Vec<u64> = events(&s.ui).iter().map(count_of).collect();
    assert_eq!(counts, [5, 5, 2]);
    let firsts: Vec<Value> = events(&s.ui)
        .iter()
        .map(|e| e.payload["events"][0]["payload"]["delta"].clone())
        .collect();
    assert_eq!(firsts, [json!("t0"), json!("t5"), json!("t10")]);
}

#[test]
fn a_buffer_is_flushed_by_the_timer_once_its_first_event_is_emit_interval_old() {
    let interval = Duration::from_millis(150);
    let s = setup(no_idle().with_emit_interval(interval));
    let emitter = s.center.emitter("Model");
    let before = Instant::now();
    emitter.emit("model.response.delta").send();
    emitter.emit("model.response.delta").send();

    // No further emit and no flush call: the worker's timer sends it.
    let got = wait_for(&s.ui, 1);
    let (arrived, summary) = &got[0];
    assert_eq!(count_of(summary), 2);
    assert!(
        arrived.duration_since(before) >= interval,
        "flushed after {:?}, before the {interval:?} interval",
        arrived.duration_since(before)
    );
}

#[test]
fn a_steady_stream_is_cut_into_summaries_by_emit_interval() {
    let interval = Duration::from_millis(60);
    let s = setup(no_idle().with_emit_interval(interval));
    let emitter = s.center.emitter("Model");
    let started = Instant::now();
    let mut sent = 0u64;
    // A stream with no pause long enough for an idle flush (which is off
    // anyway), lasting several intervals.
    while started.elapsed() < Duration::from_millis(400) {
        emitter.emit("model.response.delta").send();
        sent += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let before_flush = events(&s.ui).len();
    s.center.flush(WAIT);
    let got = events(&s.ui);
    assert!(
        before_flush >= 2,
        "a 400 ms stream under a {interval:?} interval gave {before_flush} summaries before the flush"
    );
    assert_eq!(got.iter().map(count_of).sum::<u64>(), sent);
}

#[test]
fn an_idle_buffer_is_flushed_after_100_ms_by_default() {
    let s = setup(CoalescePolicy::new());
    let emitter = s.center.emitter("Model");
    let mut sent_at = Vec::new();
    for _ in 0..3 {
        sent_at.push(Instant::now());
        emitter.emit("model.response.delta").send();
    }

    // No further emit and no flush call: poll for what arrives. Three events
    // emitted back to back give one summary, unless a scheduler pause of
    // 100 ms between two emits legitimately split them.
    wait_for(&s.ui, 1);
    let deadline = Instant::now() + WAIT;
    while events(&s.ui).iter().map(count_of).sum::<u64>() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let got = s.ui.lock().unwrap().clone();
    let originals = events(&s.originals);
    assert!(got.iter().all(|(_, e)| is_summary(e)), "{got:?}");
    assert_eq!(got.iter().map(|(_, e)| count_of(e)).sum::<u64>(), 3);
    for (arrived, summary) in &got {
        // Not before 100 ms without a new event.
        let last = originals
            .iter()
            .position(|o| summary.meta["last_event_id"] == o.event_id.to_string())
            .unwrap();
        let quiet = arrived.duration_since(sent_at[last]);
        assert!(
            quiet >= Duration::from_millis(100),
            "idle flush after only {quiet:?}"
        );
    }
    assert_eq!(hook_stats(&s.center, "ui").pending, 0);
}

#[test]
fn a_custom_idle_flush_is_honoured() {
    let idle = Duration::from_millis(300);
    let s = setup(CoalescePolicy::new().with_idle_flush(idle));
    let emitter = s.center.emitter("Model");
    let last_emit = Instant::now();
    emitter.emit("agent.text.delta").send();

    let got = wait_for(&s.ui, 1);
    let (arrived, summary) = &got[0];
    assert_eq!(count_of(summary), 1);
    // Not the default 100 ms: the custom 300 ms.
    assert!(
        arrived.duration_since(last_emit) >= idle,
        "flushed after {:?}, before the {idle:?} idle time",
        arrived.duration_since(last_emit)
    );
}

#[test]
fn a_summary_lists_the_last_20_events_and_says_it_is_truncated() {
    let s = setup(no_idle());
    let emitter = s.center.emitter("Model");
    for i in 0..25 {
        emitter
            .emit("model.response.delta")
            .payload(json!({"delta": format!("t{i}")}))
            .send();
    }
    s.center.flush(WAIT);
    let got = events(&s.ui);
    assert_eq!(got.len(), 1);
    let payload = &got[0].payload;
    assert_eq!(payload["count"], 25);
    assert_eq!(payload["truncated"], true);
    assert_eq!(payload["last_payload"], json!({"delta": "t24"}));
    let listed: Vec<Value> = payload["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"]["delta"].clone())
        .collect();
    let expected: Vec<Value> = (5..25).map(|i| json!(format!("t{i}"))).collect();
    assert_eq!(listed, expected);

    // All of them fit: not truncated.
    for _ in 0..20 {
        emitter
            .emit("model.response.delta")
            .payload(json!({"delta": "x"}))
            .send();
    }
    s.center.flush(WAIT);
    let got = events(&s.ui);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].payload["count"], 20);
    assert_eq!(got[1].payload["truncated"], false);
    assert_eq!(got[1].payload["events"].as_array().unwrap().len(), 20);
}

#[test]
fn the_summary_describes_the_original_events() {
    let s = setup(no_idle());
    let run = RunContext::new("model_request").with_agent_name("writer");
    let base = 1_760_000_000_000;
    for i in 0..4 {
        let mut event = Event::new("model.response.delta")
            .with_source("Model")
            .with_level(if i == 3 { Level::Warning } else { Level::Debug })
            .with_run(run.clone())
            .with_payload(json!({"delta": format!("t{i}"), "i": i}))
            .with_timestamp(base + 10 * i);
        if i == 3 {
            event = event.with_meta("tenant", "demo");
        } else {
            event = event.with_meta("only_early", i);
        }
        s.center.emit_event(event);
    }
    s.center.flush(WAIT);

    let originals = events(&s.originals);
    assert_eq!(originals.len(), 4);
    let (first, last) = (&originals[0], &originals[3]);
    let got = events(&s.ui);
    assert_eq!(got.len(), 1);
    let summary = &got[0];

    let meta = &summary.meta;
    assert_eq!(meta["coalesced"], true);
    assert_eq!(meta["coalesced_count"], 4);
    assert_eq!(meta["coalesced_event_type"], "model.response.delta");
    assert_eq!(meta["first_event_id"], first.event_id.to_string());
    assert_eq!(meta["last_event_id"], last.event_id.to_string());
    assert_eq!(meta["first_event_at"], first.timestamp);
    assert_eq!(meta["last_event_at"], last.timestamp);
    assert_eq!(meta["first_event_at"], base);
    assert_eq!(meta["last_event_at"], base + 30);
    let opened = meta["buffer_first_seen_at"].as_i64().unwrap();
    let grew = meta["buffer_last_seen_at"].as_i64().unwrap();
    assert!(opened <= grew, "{opened} > {grew}");
    // The last event's meta is kept, the earlier ones' is not.
    assert_eq!(meta["tenant"], "demo");
    assert!(!meta.contains_key("only_early"));

    // The last event's type, source, level and run; a new id.
    assert_eq!(summary.event_type, "model.response.delta");
    assert_eq!(summary.source, "Model");
    assert_eq!(summary.level, Level::Warning);
    assert_eq!(summary.run.as_deref(), Some(&run));
    assert!(originals.iter().all(|o| o.event_id != summary.event_id));
    assert_eq!(
        summary.message.as_deref(),
        Some("4 coalesced runtime events")
    );

    let payload = &summary.payload;
    assert_eq!(payload["count"], 4);
    assert_eq!(payload["truncated"], false);
    assert_eq!(payload["last_payload"], json!({"delta": "t3", "i": 3}));
    let listed = payload["events"].as_array().unwrap();
    assert_eq!(listed.len(), 4);
    for (entry, original) in listed.iter().zip(&originals) {
        assert_eq!(entry["event_id"], original.event_id.to_string());
        assert_eq!(entry["timestamp"], original.timestamp);
        assert_eq!(entry["payload"], original.payload);
        assert_eq!(entry["level"], original.level.as_str());
    }
}

#[test]
fn another_event_flushes_the_buffer_first_and_then_arrives_itself() {
    let s = setup(no_idle());
    let emitter = s.center.emitter("Model");
    for _ in 0..3 {
        emitter.emit("model.response.delta").send();
    }
    emitter
        .emit("model.completed")
        .payload(json!({"text": "done"}))
        .send();
    s.center.flush(WAIT);

    let originals = events(&s.originals);
    let got = events(&s.ui);
    let types: Vec<(&str, bool)> = got
        .iter()
        .map(|e| (e.event_type.as_str(), is_summary(e)))
        .collect();
    assert_eq!(
        types,
        [("model.response.delta", true), ("model.completed", false)]
    );
    assert_eq!(count_of(&got[0]), 3);
    assert_eq!(
        got[0].meta["last_event_id"],
        originals[2].event_id.to_string()
    );
    // The other event arrives as emitted.
    assert_eq!(got[1].event_id, originals[3].event_id);
    assert_eq!(got[1].payload, json!({"text": "done"}));
    assert_eq!(got[1].seq, originals[3].seq);
}

#[test]
fn the_summary_gets_a_seq_after_its_originals() {
    let s = setup(no_idle());
    let emitter = s.center.emitter("Model");
    for _ in 0..5 {
        emitter.emit("model.response.delta").send();
    }
    s.center.flush(WAIT);
    let originals = events(&s.originals);
    let got = events(&s.ui);
    assert_eq!(got.len(), 1);
    let last_original = originals.iter().map(|e| e.seq).max().unwrap();
    assert!(originals.iter().all(|e| e.seq > 0));
    assert!(
        got[0].seq > last_original,
        "summary seq {} not after the originals' {last_original}",
        got[0].seq
    );
    assert_eq!(s.center.stats().last_seq, got[0].seq);
}

#[test]
fn each_original_event_counts_once_as_delivered() {
    let s = setup(CoalescePolicy::new().with_max_items(4));
    let emitter = s.center.emitter("Model");
    for i in 0..10 {
        emitter.emit("model.response.delta").send();
        if i % 3 == 0 {
            emitter.emit("model.step").send();
        }
    }
    let report = s.center.flush(WAIT);
    assert_eq!(report.pending, 0);

    let stats = hook_stats(&s.center, "ui");
    let originals = events(&s.originals).len() as u64;
    assert_eq!(originals, 14);
    assert_eq!(stats.accepted, originals);
    assert_eq!(stats.delivered, originals);
    assert_eq!(
        (stats.failed, stats.dropped.total(), stats.pending),
        (0, 0, 0)
    );
    // What the hook received stands for exactly the emitted events.
    let got = events(&s.ui);
    let covered: u64 = got
        .iter()
        .map(|e| if is_summary(e) { count_of(e) } else { 1 })
        .sum();
    assert_eq!(covered, originals);
    assert!(
        got.len() < originals as usize,
        "nothing was coalesced: {got:?}"
    );
}
