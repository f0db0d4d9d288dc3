//! The coalescer unit tests: what counts as high-frequency, the policy,
//! `push` and its flush triggers, and the summary event.

use super::*;
use crate::event::{ErrorInfo, Level};
use crate::run::RunContext;

fn ev(event_type: &'static str) -> Arc<Event> {
    Arc::new(Event::new(event_type))
}

fn delta(n: u64) -> Arc<Event> {
    Arc::new(
        Event::new("model.response.delta")
            .with_payload(json!({"delta": format!("t{n}")}))
            .with_timestamp(1_760_000_000_000 + n as i64),
    )
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A policy with only the given triggers (no default idle flush).
fn bare() -> CoalescePolicy {
    CoalescePolicy::new().with_idle_flush(Duration::ZERO)
}

// ---- is_high_frequency -------------------------------------------------

#[test]
fn meta_high_frequency_true_is_high_frequency() {
    assert!(is_high_frequency(
        &Event::new("x.y").with_meta("high_frequency", true)
    ));
}

#[test]
fn meta_high_frequency_as_string_or_number_is_not() {
    assert!(!is_high_frequency(
        &Event::new("x.y").with_meta("high_frequency", "true")
    ));
    assert!(!is_high_frequency(
        &Event::new("x.y").with_meta("high_frequency", 1)
    ));
    assert!(!is_high_frequency(
        &Event::new("x.y").with_meta("high_frequency", false)
    ));
}

#[test]
fn meta_frequency_high_is_high_frequency() {
    assert!(is_high_frequency(
        &Event::new("x.y").with_meta("frequency", "high")
    ));
}

#[test]
fn meta_frequency_other_than_high_is_not() {
    assert!(!is_high_frequency(
        &Event::new("x.y").with_meta("frequency", "low")
    ));
    assert!(!is_high_frequency(
        &Event::new("x.y").with_meta("frequency", "HIGH")
    ));
}

#[test]
fn type_ending_in_dot_delta_is_high_frequency() {
    assert!(is_high_frequency(&Event::new("agent.text.delta")));
}

#[test]
fn type_ending_in_underscore_delta_is_high_frequency() {
    assert!(is_high_frequency(&Event::new("model.reasoning_delta")));
}

#[test]
fn listed_types_are_high_frequency() {
    assert!(is_high_frequency(&Event::new(
        "triggerflow.stream_item_emitted"
    )));
    assert!(is_high_frequency(&Event::new("model.response.delta")));
    assert!(is_high_frequency(&Event::new("response.delta")));
}

#[test]
fn delta_elsewhere_in_the_type_is_not() {
    assert!(!is_high_frequency(&Event::new("delta.started")));
    assert!(!is_high_frequency(&Event::new("model.deltas")));
    assert!(!is_high_frequency(&Event::new("model.delta.done")));
    assert!(!is_high_frequency(&Event::new(
        "workflow.stream_item_emitted"
    )));
}

#[test]
fn payload_event_type_delta_is_high_frequency() {
    assert!(is_high_frequency(
        &Event::new("x.y").with_payload(json!({"event_type": "delta"}))
    ));
    assert!(!is_high_frequency(
        &Event::new("x.y").with_payload(json!({"event_type": "done"}))
    ));
}

#[test]
fn payload_string_delta_is_high_frequency() {
    assert!(is_high_frequency(
        &Event::new("x.y").with_payload(json!({"delta": ""}))
    ));
}

#[test]
fn payload_delta_that_is_not_a_string_is_not() {
    for value in [json!(3), json!(null), json!({"text": "a"}), json!(["a"])] {
        let event = Event::new("x.y").with_payload(json!({ "delta": value }));
        assert!(!is_high_frequency(&event), "{value}");
    }
}

#[test]
fn payload_that_is_not_an_object_is_not() {
    assert!(!is_high_frequency(
        &Event::new("x.y").with_payload(json!("delta"))
    ));
    assert!(!is_high_frequency(
        &Event::new("x.y").with_payload(json!([{"delta": "a"}]))
    ));
}

#[test]
fn plain_event_is_not_high_frequency() {
    assert!(!is_high_frequency(&Event::new("model.completed")));
}

// ---- policy --------------------------------------------------------------

#[test]
fn default_policy_matches_agently() {
    let policy = CoalescePolicy::default();
    assert_eq!(policy.max_items(), None);
    assert_eq!(policy.emit_interval(), None);
    assert_eq!(policy.idle_flush(), Some(ms(100)));
    assert_eq!(policy.max_summary_items(), 20);
    assert!(policy.high_frequency_only());
}

#[test]
fn zero_settings_mean_unset_or_default() {
    let policy = CoalescePolicy::new()
        .with_max_items(0)
        .with_emit_interval(Duration::ZERO)
        .with_idle_flush(Duration::ZERO)
        .with_max_summary_items(0);
    assert_eq!(policy.max_items(), None);
    assert_eq!(policy.emit_interval(), None);
    assert_eq!(policy.idle_flush(), None);
    assert_eq!(policy.max_summary_items(), 20);
}

// ---- push ------------------------------------------------------------------

#[test]
fn non_high_frequency_with_empty_buffer_is_just_delivered() {
    let mut c = Coalescer::new(CoalescePolicy::new());
    let event = ev("model.completed");
    match c.push(event.clone(), Instant::now()) {
        Step::Deliver(out) => assert!(Arc::ptr_eq(&out, &event)),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.len(), 0);
    assert_eq!(c.deadline(), None);
}

#[test]
fn high_frequency_event_is_buffered() {
    let mut c = Coalescer::new(CoalescePolicy::new());
    assert!(matches!(c.push(delta(1), Instant::now()), Step::Buffered));
    assert_eq!(c.len(), 1);
}

#[test]
fn non_high_frequency_flushes_first_then_is_delivered() {
    let mut c = Coalescer::new(CoalescePolicy::new());
    let t = Instant::now();
    let _ = c.push(delta(1), t);
    let _ = c.push(delta(2), t);
    let done = ev("model.completed");
    match c.push(done.clone(), t) {
        Step::FlushThenDeliver(summary, event) => {
            assert_eq!(summary.count, 2);
            assert_eq!(summary.event.event_type, "model.response.delta");
            assert!(Arc::ptr_eq(&event, &done));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.len(), 0);
    assert_eq!(c.deadline(), None);
}

#[test]
fn max_items_flushes_when_reached() {
    let mut c = Coalescer::new(bare().with_max_items(3));
    let t = Instant::now();
    assert!(matches!(c.push(delta(1), t), Step::Buffered));
    assert!(matches!(c.push(delta(2), t), Step::Buffered));
    match c.push(delta(3), t) {
        Step::Flush(summary) => {
            assert_eq!(summary.count, 3);
            assert_eq!(summary.event.payload["events"][2]["payload"]["delta"], "t3");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.len(), 0);
    assert!(matches!(c.push(delta(4), t), Step::Buffered));
    assert_eq!(c.len(), 1);
}

#[test]
fn max_items_one_flushes_every_event() {
    let mut c = Coalescer::new(bare().with_max_items(1));
    match c.push(delta(1), Instant::now()) {
        Step::Flush(summary) => assert_eq!(summary.count, 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn emit_interval_flushes_on_push() {
    let mut c = Coalescer::new(bare().with_emit_interval(ms(200)));
    let t = Instant::now();
    assert!(matches!(c.push(delta(1), t), Step::Buffered));
    assert!(matches!(c.push(delta(2), t + ms(199)), Step::Buffered));
    match c.push(delta(3), t + ms(200)) {
        Step::Flush(summary) => assert_eq!(summary.count, 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.len(), 0);
}

#[test]
fn emit_interval_flushes_by_timer() {
    let mut c = Coalescer::new(bare().with_emit_interval(ms(200)));
    let t = Instant::now();
    let _ = c.push(delta(1), t);
    let _ = c.push(delta(2), t + ms(150));
    assert_eq!(c.deadline(), Some(t + ms(200)));
    assert!(c.on_timer(t + ms(199)).is_none());
    assert_eq!(c.len(), 2);
    let summary = c.on_timer(t + ms(200)).expect("deadline passed");
    assert_eq!(summary.count, 2);
    assert_eq!(c.deadline(), None);
    assert!(c.on_timer(t + ms(400)).is_none());
}

#[test]
fn idle_flush_by_timer_follows_the_last_event() {
    let mut c = Coalescer::new(CoalescePolicy::new());
    let t = Instant::now();
    let _ = c.push(delta(1), t);
    assert_eq!(c.deadline(), Some(t + ms(100)));
    let _ = c.push(delta(2), t + ms(80));
    assert_eq!(c.deadline(), Some(t + ms(180)));
    assert!(c.on_timer(t + ms(100)).is_none());
    let summary = c.on_timer(t + ms(180)).expect("idle");
    assert_eq!(summary.count, 2);
    assert_eq!(c.len(), 0);
}

#[test]
fn deadline_is_the_earlier_of_interval_and_idle() {
    let mut c = Coalescer::new(
        CoalescePolicy::new()
            .with_emit_interval(ms(250))
            .with_idle_flush(ms(100)),
    );
    let t = Instant::now();
    assert_eq!(c.deadline(), None);
    let _ = c.push(delta(1), t);
    assert_eq!(c.deadline(), Some(t + ms(100)));
    let _ = c.push(delta(2), t + ms(90));
    let _ = c.push(delta(3), t + ms(180));
    // idle would be 280; the interval (250 from the first event) wins.
    assert_eq!(c.deadline(), Some(t + ms(250)));
}

#[test]
fn no_timer_triggers_means_no_deadline() {
    let mut c = Coalescer::new(bare());
    let t = Instant::now();
    let _ = c.push(delta(1), t);
    assert_eq!(c.deadline(), None);
    assert!(c.on_timer(t + Duration::from_secs(3600)).is_none());
    assert_eq!(c.len(), 1);
}

#[test]
fn huge_durations_do_not_overflow() {
    let mut c = Coalescer::new(
        CoalescePolicy::new()
            .with_emit_interval(Duration::MAX)
            .with_idle_flush(Duration::MAX),
    );
    let t = Instant::now();
    assert!(matches!(c.push(delta(1), t), Step::Buffered));
    assert_eq!(c.deadline(), None);
}

#[test]
fn explicit_flush_empties_the_buffer() {
    let mut c = Coalescer::new(bare());
    assert!(c.flush().is_none());
    let t = Instant::now();
    let _ = c.push(delta(1), t);
    let _ = c.push(delta(2), t);
    assert_eq!(c.flush().expect("two buffered").count, 2);
    assert!(c.flush().is_none());
    assert_eq!(c.len(), 0);
}

#[test]
fn without_high_frequency_only_everything_is_buffered() {
    let mut c = Coalescer::new(bare().with_high_frequency_only(false));
    let t = Instant::now();
    assert!(matches!(c.push(ev("model.completed"), t), Step::Buffered));
    assert!(matches!(c.push(delta(1), t), Step::Buffered));
    assert!(matches!(
        c.push(ev("action.loop_started"), t),
        Step::Buffered
    ));
    let summary = c.flush().expect("three buffered");
    assert_eq!(summary.count, 3);
    assert_eq!(summary.event.event_type, "action.loop_started");
}

// ---- the summary event -------------------------------------------------------

#[test]
fn summary_count_equals_the_events_covered() {
    let mut c = Coalescer::new(bare());
    let t = Instant::now();
    for n in 0..7 {
        let _ = c.push(delta(n), t);
    }
    let summary = c.flush().expect("buffered");
    assert_eq!(summary.count, 7);
    assert_eq!(summary.event.payload["count"], 7);
    assert_eq!(summary.event.meta["coalesced_count"], 7);
    assert_eq!(
        summary.event.message.as_deref(),
        Some("7 coalesced runtime events")
    );
}

#[test]
fn summary_lists_the_last_max_summary_items_and_says_truncated() {
    let mut c = Coalescer::new(bare().with_max_summary_items(3));
    let t = Instant::now();
    for n in 1..=5 {
        let _ = c.push(delta(n), t);
    }
    let summary = c.flush().expect("buffered");
    let listed = summary.event.payload["events"].as_array().expect("array");
    let deltas: Vec<_> = listed.iter().map(|e| &e["payload"]["delta"]).collect();
    assert_eq!(deltas, ["t3", "t4", "t5"]);
    assert_eq!(summary.event.payload["truncated"], true);
    assert_eq!(summary.event.payload["count"], 5);
}

#[test]
fn summary_not_truncated_when_all_fit() {
    let mut c = Coalescer::new(bare().with_max_summary_items(3));
    let t = Instant::now();
    for n in 1..=3 {
        let _ = c.push(delta(n), t);
    }
    let summary = c.flush().expect("buffered");
    assert_eq!(
        summary.event.payload["events"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(summary.event.payload["truncated"], false);
}

#[test]
fn summary_meta_keeps_last_meta_and_adds_coalesced_keys() {
    let mut c = Coalescer::new(bare());
    let t = Instant::now();
    let first = Arc::new(
        Event::new("model.response.delta")
            .with_meta("only_first", 1)
            .with_timestamp(1_000),
    );
    let last = Arc::new(
        Event::new("model.response.delta")
            .with_meta("tenant", "demo")
            .with_meta("coalesced_count", "overwritten")
            .with_timestamp(2_000),
    );
    let _ = c.push(first.clone(), t);
    let _ = c.push(last.clone(), t + ms(1500));
    let summary = c.flush().expect("buffered");
    let meta = &summary.event.meta;
    assert_eq!(meta["tenant"], "demo");
    assert!(!meta.contains_key("only_first"));
    assert_eq!(meta["coalesced"], true);
    assert_eq!(meta["coalesced_count"], 2);
    assert_eq!(meta["coalesced_event_type"], "model.response.delta");
    assert_eq!(meta["first_event_id"], first.event_id.to_string());
    assert_eq!(meta["last_event_id"], last.event_id.to_string());
    assert_eq!(meta["first_event_at"], 1_000);
    assert_eq!(meta["last_event_at"], 2_000);
    let opened = meta["buffer_first_seen_at"].as_i64().expect("ms");
    let grew = meta["buffer_last_seen_at"].as_i64().expect("ms");
    assert_eq!(grew - opened, 1500);
    assert!((opened - now_millis()).abs() < 60_000);
    assert_eq!(meta.len(), 10);
}

#[test]
fn summary_takes_last_events_fields_with_a_new_id_and_time() {
    let run = Arc::new(RunContext::new("model_request"));
    let last = Arc::new(
        Event::new("model.response.delta")
            .with_source("Model")
            .with_level(Level::Warning)
            .with_error(ErrorInfo::new("Slow", "slow stream"))
            .with_run(run.clone())
            .with_payload(json!({"delta": "end", "i": 9}))
            .with_timestamp(5),
    );
    let mut c = Coalescer::new(bare());
    let _ = c.push(delta(1), Instant::now());
    let _ = c.push(last.clone(), Instant::now());
    let summary = c.flush().expect("buffered").event;
    assert_eq!(summary.event_type, "model.response.delta");
    assert_eq!(summary.source, "Model");
    assert_eq!(summary.level, Level::Warning);
    assert_eq!(
        summary.error.as_ref().map(|e| e.error_type.as_str()),
        Some("Slow")
    );
    assert!(Arc::ptr_eq(summary.run.as_ref().expect("run"), &run));
    assert_eq!(
        summary.payload["last_payload"],
        json!({"delta": "end", "i": 9})
    );
    assert_ne!(summary.event_id, last.event_id);
    assert!((summary.timestamp - now_millis()).abs() < 60_000);
    assert_eq!(summary.seq, 0);
    assert!(summary.extra.is_empty());
    let keys: Vec<_> = summary
        .payload
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 4);
    for key in ["count", "events", "last_payload", "truncated"] {
        assert!(keys.iter().any(|k| k == key), "{key}");
    }
}

#[test]
fn compact_entries_have_agently_fields() {
    let run = RunContext::new("model_request");
    let event = Arc::new(
        Event::new("model.response.delta")
            .with_source("Model")
            .with_level(Level::Debug)
            .with_message("tok")
            .with_run(run.clone())
            .with_meta("k", "v")
            .with_payload(json!({"delta": "a"}))
            .with_timestamp(42),
    );
    let mut c = Coalescer::new(bare());
    let _ = c.push(event.clone(), Instant::now());
    let summary = c.flush().expect("buffered").event;
    let entry = &summary.payload["events"][0];
    assert_eq!(
        entry,
        &json!({
            "event_id": event.event_id.to_string(),
            "event_type": "model.response.delta",
            "source": "Model",
            "level": "DEBUG",
            "message": "tok",
            "payload": {"delta": "a"},
            "run": serde_json::to_value(&run).expect("run serializes"),
            "meta": {"k": "v"},
            "timestamp": 42,
        })
    );
    assert_eq!(entry["run"]["run_kind"], "model_request");

    let bare_event = Arc::new(Event::new("x.delta"));
    let _ = c.push(bare_event, Instant::now());
    let summary = c.flush().expect("buffered").event;
    assert_eq!(summary.payload["events"][0]["run"], Value::Null);
    assert_eq!(summary.payload["events"][0]["message"], Value::Null);
}

#[test]
fn summary_keeps_the_last_event_type_so_patterns_still_match() {
    // A hook subscribed to `model.*` receives the summary: it keeps the
    // last event's type.
    let mut c = Coalescer::new(bare());
    let _ = c.push(delta(1), Instant::now());
    let summary = c.flush().expect("buffered").event;
    assert!(summary.event_type.starts_with("model."));
    assert_eq!(summary.meta["coalesced_event_type"], "model.response.delta");
}
