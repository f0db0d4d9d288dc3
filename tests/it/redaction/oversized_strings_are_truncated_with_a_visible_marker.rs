//! A center built with a `SizeLimit` cuts every string value longer than the
//! limit (in the payload at any depth, the meta, the message, the error) at
//! a character boundary, ends it with a visible `…[truncated N bytes]`
//! marker, and flags the event in its meta (`truncated: true`,
//! `truncated_bytes`). Short strings are untouched, and every hook, trusted
//! ones (which skip redaction) included, sees the limited event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Delivery, ErrorInfo, Event, EventCenter, HookOptions, Overflow, SizeLimit};
use serde_json::{json, Value};

const LIMIT: usize = 128;
const WAIT: Duration = Duration::from_secs(5);

type Seen = Arc<Mutex<Vec<Event>>>;

fn record(center: &EventCenter, name: &str, options: HookOptions) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(name.to_owned(), "*", options, move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();
    seen
}

fn limited_center() -> EventCenter {
    EventCenter::builder()
        .with_size_limit(SizeLimit::new(LIMIT))
        .build()
}

/// Checks that `cut` is `original` cut to the limit with the marker, and
/// returns how many bytes were dropped.
fn assert_cut(original: &str, cut: &str, what: &str) -> u64 {
    assert!(
        cut.len() <= LIMIT,
        "{what}: {} bytes, over the {LIMIT}-byte limit",
        cut.len()
    );
    let at = cut
        .rfind("…[truncated ")
        .unwrap_or_else(|| panic!("{what}: no marker in {cut:?}"));
    let (kept, marker) = cut.split_at(at);
    let dropped: usize = marker
        .strip_prefix("…[truncated ")
        .and_then(|rest| rest.strip_suffix(" bytes]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what}: bad marker {marker:?}"));
    assert!(
        original.starts_with(kept),
        "{what}: the kept text is not a prefix of the original"
    );
    assert!(original.is_char_boundary(kept.len()), "{what}");
    assert_eq!(kept.len() + dropped, original.len(), "{what}: marker count");
    assert!(!kept.is_empty(), "{what}: nothing kept");
    dropped as u64
}

#[test]
fn long_strings_are_cut_at_a_char_boundary_and_the_event_is_flagged() {
    let center = limited_center();
    let seen = record(&center, "log", HookOptions::new());

    // Two- and three-byte characters, so that a cut at a plain byte offset
    // would split one.
    let long_text = "é".repeat(150) + "end";
    let long_nested = "日本語".repeat(40);
    let long_meta = "m".repeat(LIMIT + 1);
    let long_message = "ü".repeat(LIMIT);
    let long_error = "x".repeat(500);
    let exact = "s".repeat(LIMIT);
    center
        .emitter("Model")
        .with_meta("emitter_note", long_meta.as_str())
        .emit("model.completed")
        .message(long_message.clone())
        .payload(json!({
            "text": long_text,
            "nested": [{"deep": {"value": long_nested}}],
            "short": "ok",
            "exact": exact,
            "n": 12345,
        }))
        .meta("note", "short meta")
        .error(ErrorInfo::new("Boom", long_error.as_str()))
        .send();

    let seen = seen.lock().unwrap();
    let event = &seen[0];
    let mut dropped = 0;
    dropped += assert_cut(
        &long_text,
        event.payload["text"].as_str().unwrap(),
        "payload",
    );
    dropped += assert_cut(
        &long_nested,
        event.payload["nested"][0]["deep"]["value"]
            .as_str()
            .unwrap(),
        "nested payload",
    );
    dropped += assert_cut(
        &long_meta,
        event.meta["emitter_note"].as_str().unwrap(),
        "meta",
    );
    dropped += assert_cut(&long_message, event.message.as_deref().unwrap(), "message");
    dropped += assert_cut(
        &long_error,
        &event.error.as_deref().unwrap().message,
        "error message",
    );

    // Untouched: short strings, a string exactly at the limit, numbers.
    assert_eq!(event.payload["short"], "ok");
    assert_eq!(event.payload["exact"], Value::from(exact));
    assert_eq!(event.payload["n"], 12345);
    assert_eq!(event.meta["note"], "short meta");

    assert_eq!(event.meta["truncated"], true);
    assert_eq!(event.meta["truncated_bytes"], dropped);
}

#[test]
fn an_event_within_the_limit_is_untouched_and_not_flagged() {
    let center = limited_center();
    let seen = record(&center, "log", HookOptions::new());
    let payload = json!({"text": "a".repeat(LIMIT), "list": ["b", "c"]});
    center
        .emitter("Model")
        .emit("model.completed")
        .message("fine")
        .payload(payload.clone())
        .send();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].payload, payload);
    assert_eq!(seen[0].message.as_deref(), Some("fine"));
    assert!(!seen[0].meta.contains_key("truncated"));
    assert!(!seen[0].meta.contains_key("truncated_bytes"));
}

#[test]
fn every_hook_trusted_or_queued_sees_the_limited_event() {
    let center = limited_center();
    let inline = record(&center, "inline", HookOptions::new());
    let queued = record(
        &center,
        "queued",
        HookOptions::new().with_delivery(Delivery::background(16, Overflow::Block)),
    );
    let trusted = record(&center, "trusted", HookOptions::new().with_redaction(false));
    let trusted_queued = record(
        &center,
        "trusted-queued",
        HookOptions::new()
            .with_redaction(false)
            .with_delivery(Delivery::background(16, Overflow::Block)),
    );

    let long = "z".repeat(1000);
    // A secret too, so trusted hooks get a copy of their own.
    center
        .emitter("Model")
        .emit("model.completed")
        .payload(json!({"text": long, "api_key": "sk-1"}))
        .send();
    center.flush(WAIT);

    let mut ids = Vec::new();
    for (who, seen, redacted) in [
        ("inline", &inline, true),
        ("queued", &queued, true),
        ("trusted", &trusted, false),
        ("trusted queued", &trusted_queued, false),
    ] {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{who}");
        let event = &seen[0];
        let dropped = assert_cut(&long, event.payload["text"].as_str().unwrap(), who);
        assert_eq!(event.meta["truncated"], true, "{who}");
        assert_eq!(event.meta["truncated_bytes"], dropped, "{who}");
        let key = if redacted { "[REDACTED]" } else { "sk-1" };
        assert_eq!(event.payload["api_key"], key, "{who}");
        ids.push(event.event_id.to_string());
    }
    assert!(ids.windows(2).all(|p| p[0] == p[1]), "one event: {ids:?}");
}
