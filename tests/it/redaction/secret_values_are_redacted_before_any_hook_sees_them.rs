//! A center masks the values of secret-looking keys (`api_key`,
//! `Authorization`, `password`, `client_secret`, `access_token`,
//! `Set-Cookie`, ...) at any depth in the payload, the meta (the emitter's
//! base meta too), the error's details and the run's meta before any hook,
//! inline, queued or async, sees the event; usage counters such as
//! `prompt_tokens` are kept. Users can add keys or turn redaction off, and a
//! hook registered with `with_redaction(false)` sees the same event (same
//! id) unredacted. Redaction never writes through to what the emitter
//! shares between events.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{
    Delivery, ErrorInfo, Event, EventCenter, HookOptions, Overflow, Redaction, RunContext,
};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);
const MASK: &str = "[REDACTED]";

type Seen = Arc<Mutex<Vec<Event>>>;

fn record(center: &EventCenter, name: &str, pattern: &str, options: HookOptions) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook_with(name.to_owned(), pattern, options, move |e: &Event| {
            sink.lock().unwrap().push(e.clone());
        })
        .unwrap();
    seen
}

fn record_async(center: &EventCenter, name: &str, pattern: &str) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_async_hook(name.to_owned(), pattern, move |e: Arc<Event>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((*e).clone());
            }
        })
        .unwrap();
    seen
}

fn secret_payload() -> Value {
    json!({
        "api_key": "sk-live-123",
        "request": {
            "headers": [
                {"Authorization": "Bearer abc"},
                {"Set-Cookie": "sid=1; HttpOnly"},
                {"Accept": "text/plain"},
            ],
            "body": {"user": "ann", "password": "hunter2"},
        },
        "oauth": [{"client_secret": "cs-1", "access_token": "at-1", "token_type": "Bearer"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
        "city": "Oslo",
    })
}

fn redacted_payload() -> Value {
    json!({
        "api_key": MASK,
        "request": {
            "headers": [
                {"Authorization": MASK},
                {"Set-Cookie": MASK},
                {"Accept": "text/plain"},
            ],
            "body": {"user": "ann", "password": MASK},
        },
        "oauth": [{"client_secret": MASK, "access_token": MASK, "token_type": "Bearer"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
        "city": "Oslo",
    })
}

fn secret_error() -> ErrorInfo {
    ErrorInfo::new("HttpError", "401 from the provider")
        .with_detail(
            "request",
            json!({"headers": {"Authorization": "Bearer err"}, "url": "/v1/chat"}),
        )
        .with_detail("db_password", "pw-err")
        .with_detail("status", 401)
}

fn secret_run() -> RunContext {
    RunContext::new("model_request")
        .with_meta("access_token", "run-tok")
        .with_meta("model", "gpt")
}

/// Emits one event with secrets everywhere from an emitter whose base meta
/// holds one too.
fn emit_secrets(center: &EventCenter) {
    center
        .emitter("Model")
        .with_meta("api_key", "em-key")
        .with_meta("tenant", "demo")
        .emit("model.requested")
        .payload(secret_payload())
        .meta("Authorization", "Bearer meta")
        .meta("nested", json!({"list": [{"x-api-key": "k-2"}], "ok": 1}))
        .error(secret_error())
        .run(secret_run())
        .send();
}

fn assert_redacted(event: &Event, who: &str) {
    assert_eq!(event.payload, redacted_payload(), "{who}: payload");
    let meta = &event.meta;
    assert_eq!(meta["api_key"], MASK, "{who}: emitter meta");
    assert_eq!(meta["Authorization"], MASK, "{who}: meta");
    assert_eq!(
        meta["nested"],
        json!({"list": [{"x-api-key": MASK}], "ok": 1}),
        "{who}"
    );
    assert_eq!(meta["tenant"], "demo", "{who}");
    let error = event.error.as_deref().unwrap();
    assert_eq!(
        error.details["request"],
        json!({"headers": {"Authorization": MASK}, "url": "/v1/chat"}),
        "{who}: error details"
    );
    assert_eq!(error.details["db_password"], MASK, "{who}");
    assert_eq!(error.details["status"], 401, "{who}");
    assert_eq!(error.message, "401 from the provider", "{who}");
    let run = event.run.as_deref().unwrap();
    assert_eq!(run.meta["access_token"], MASK, "{who}: run meta");
    assert_eq!(run.meta["model"], "gpt", "{who}");
}

fn assert_raw(event: &Event, who: &str) {
    assert_eq!(event.payload, secret_payload(), "{who}: payload");
    assert_eq!(event.meta["api_key"], "em-key", "{who}");
    assert_eq!(event.meta["Authorization"], "Bearer meta", "{who}");
    assert_eq!(event.meta["nested"]["list"][0]["x-api-key"], "k-2", "{who}");
    let error = event.error.as_deref().unwrap();
    assert_eq!(error.details["db_password"], "pw-err", "{who}");
    assert_eq!(
        error.details["request"]["headers"]["Authorization"], "Bearer err",
        "{who}"
    );
    assert_eq!(
        event.run.as_deref().unwrap().meta["access_token"],
        "run-tok",
        "{who}"
    );
}

#[test]
fn inline_queued_and_async_hooks_see_only_masked_values() {
    let center = EventCenter::new();
    let inline = record(&center, "inline", "model.*", HookOptions::new());
    let queued = record(
        &center,
        "queued",
        "model.*",
        HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block)),
    );
    let async_hook = record_async(&center, "async", "model.*");
    emit_secrets(&center);
    assert_eq!(center.flush(WAIT).pending, 0);

    for (who, seen) in [
        ("inline", &inline),
        ("queued", &queued),
        ("async", &async_hook),
    ] {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{who}");
        assert_redacted(&seen[0], who);
    }
}

#[test]
fn send_async_awaits_async_hooks_with_masked_values() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let center = EventCenter::new();
    let async_hook = record_async(&center, "async", "model.*");
    runtime.block_on(async {
        center
            .emitter("Model")
            .with_meta("api_key", "em-key")
            .with_meta("tenant", "demo")
            .emit("model.requested")
            .payload(secret_payload())
            .meta("Authorization", "Bearer meta")
            .meta("nested", json!({"list": [{"x-api-key": "k-2"}], "ok": 1}))
            .error(secret_error())
            .run(secret_run())
            .send_async()
            .await;
    });
    let seen = async_hook.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_redacted(&seen[0], "awaited async");
}

#[test]
fn a_trusted_hook_sees_the_same_event_unredacted() {
    let center = EventCenter::new();
    let before = record(&center, "before", "model.*", HookOptions::new());
    let trusted = record(
        &center,
        "trusted",
        "model.*",
        HookOptions::new().with_redaction(false),
    );
    let trusted_queued = record(
        &center,
        "trusted-queued",
        "model.*",
        HookOptions::new()
            .with_redaction(false)
            .with_delivery(Delivery::background(64, Overflow::Block)),
    );
    let after = record(&center, "after", "model.*", HookOptions::new());
    emit_secrets(&center);
    center.flush(WAIT);

    let (before, after) = (before.lock().unwrap(), after.lock().unwrap());
    let (trusted, trusted_queued) = (trusted.lock().unwrap(), trusted_queued.lock().unwrap());
    assert_redacted(&before[0], "before");
    assert_redacted(&after[0], "after");
    assert_raw(&trusted[0], "trusted");
    assert_raw(&trusted_queued[0], "trusted queued");
    for other in [&after[0], &trusted[0], &trusted_queued[0]] {
        assert_eq!(other.event_id, before[0].event_id);
        assert_eq!(other.seq, before[0].seq);
        assert_eq!(other.timestamp, before[0].timestamp);
    }
}

#[test]
fn the_emitters_shared_meta_is_not_redacted_in_place() {
    let center = EventCenter::new();
    let seen = record(&center, "log", "auth.*", HookOptions::new());
    let emitter = center
        .emitter("Auth")
        .with_meta("api_key", "em-key")
        .with_meta("tenant", "demo");

    // No trusted hook yet: the redaction masks this event's meta, which is
    // the emitter's own base meta (no event meta added).
    emitter.emit("auth.login").send();
    let trusted = record(
        &center,
        "trusted",
        "auth.*",
        HookOptions::new().with_redaction(false),
    );
    emitter.emit("auth.login").send();
    emitter.emit("auth.logout").send();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for event in seen.iter() {
        assert_eq!(event.meta["api_key"], MASK);
        assert_eq!(event.meta["tenant"], "demo");
    }
    let trusted = trusted.lock().unwrap();
    assert_eq!(trusted.len(), 2);
    for event in trusted.iter() {
        assert_eq!(
            event.meta["api_key"], "em-key",
            "the emitter's meta was changed"
        );
    }
}

#[test]
fn a_dict_emit_is_redacted_too() {
    let center = EventCenter::new();
    let seen = record(&center, "log", "*", HookOptions::new());
    let trusted = record(
        &center,
        "trusted",
        "*",
        HookOptions::new().with_redaction(false),
    );
    center
        .emit_json(json!({
            "event_type": "model.requested",
            "payload": secret_payload(),
            "meta": {"Authorization": "Bearer meta", "tenant": "demo"},
            "error": {
                "type": "HttpError",
                "message": "401",
                "details": {"headers": {"Set-Cookie": "sid=9"}},
            },
            "run": {"run_id": "r1", "run_kind": "model_request", "meta": {"client_secret": "cs-run"}},
            "vendor_field": {"api_key": "extra-key"},
        }))
        .unwrap();
    let seen = seen.lock().unwrap();
    let event = &seen[0];
    assert_eq!(event.payload, redacted_payload());
    assert_eq!(event.meta["Authorization"], MASK);
    assert_eq!(event.meta["tenant"], "demo");
    let error = event.error.as_deref().unwrap();
    assert_eq!(error.details["headers"]["Set-Cookie"], MASK);
    assert_eq!(event.run.as_deref().unwrap().meta["client_secret"], MASK);
    assert_eq!(event.extra["vendor_field"], json!({"api_key": MASK}));

    let raw = &trusted.lock().unwrap()[0];
    assert_eq!(raw.payload, secret_payload());
    assert_eq!(raw.extra["vendor_field"]["api_key"], "extra-key");
}

#[test]
fn a_user_key_is_masked_like_the_default_ones() {
    let center = EventCenter::builder()
        .with_redaction(Redaction::default().with_key("ssn"))
        .build();
    let seen = record(&center, "log", "*", HookOptions::new());
    center
        .emitter("Users")
        .emit("user.created")
        .payload(json!({"user": {"SSN": "123-45-6789", "name": "ann"}, "password": "pw"}))
        .meta("customer_ssn", "987")
        .send();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0].payload,
        json!({"user": {"SSN": MASK, "name": "ann"}, "password": MASK})
    );
    assert_eq!(seen[0].meta["customer_ssn"], MASK);
}

#[test]
fn redaction_none_turns_it_off() {
    let center = EventCenter::builder()
        .with_redaction(Redaction::none())
        .build();
    let seen = record(&center, "log", "*", HookOptions::new());
    let queued = record(
        &center,
        "queued",
        "*",
        HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block)),
    );
    emit_secrets(&center);
    center.flush(WAIT);
    assert_raw(&seen.lock().unwrap()[0], "inline, redaction off");
    assert_raw(&queued.lock().unwrap()[0], "queued, redaction off");
}

#[test]
fn a_trusted_hook_sees_the_tool_twin_of_an_action_event_unredacted() {
    let center = EventCenter::new();
    let seen = record(&center, "log", "tool.*", HookOptions::new());
    let trusted = record(
        &center,
        "trusted",
        "tool.*",
        HookOptions::new().with_redaction(false),
    );
    center
        .emitter("ActionFlow")
        .emit("action.loop_started")
        .payload(secret_payload())
        .send();

    let seen = seen.lock().unwrap();
    let trusted = trusted.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(trusted.len(), 1);
    assert_eq!(seen[0].event_type, "tool.loop_started");
    assert_eq!(seen[0].payload, redacted_payload());
    assert_eq!(trusted[0].event_id, seen[0].event_id);
    assert_eq!(
        trusted[0].payload,
        secret_payload(),
        "a hook registered with_redaction(false) got the twin redacted"
    );
}
