//! The redaction and size-limit unit tests, with a slow reference
//! implementation of the key-matching rule to check the fast one against.

use super::size_limit::{cut_point, marker_len};
use super::*;
use crate::event::ErrorInfo;
use crate::run::RunContext;
use serde_json::json;

fn redacted(payload: Value) -> Value {
    let mut event = Event::new("t.t").with_payload(payload);
    Redaction::default().redact(&mut event);
    event.payload
}

#[test]
fn secret_keys_match_in_any_case_and_spelling() {
    for key in [
        "api_key",
        "apikey",
        "API_KEY",
        "apiKey",
        "Api Key",
        "api.key",
        "x-api-key",
        "X-API-KEY",
        "Authorization",
        "proxy-authorization",
        "password",
        "db_password",
        "PASSWORD",
        "secret",
        "client_secret",
        "clientSecret",
        "token",
        "access_token",
        "refreshToken",
        "id_token",
        "x-auth-token",
        "oauth_token_secret",
        "tokenString",
        "TOKENSTORE",
        "token_store",
        "cookie",
        "Set-Cookie",
        "SET-COOKIE",
        "passwd",
        "DB_PASSWD",
        "pwd",
        "PWD",
        "private_key",
        "PrivateKey",
        "ssh-private-key",
        "client_secret",
        "CLIENT_SECRET",
        "access_key",
        "AWS_ACCESS_KEY_ID",
        "accessKey",
        "credentials",
        "Credentials",
        "aws_credentials",
        "x-api-key",
        "X-Api-Key",
    ] {
        assert_eq!(
            redacted(json!({ key: "s3cr3t" })),
            json!({ key: "[REDACTED]" }),
            "{key} should be secret"
        );
    }
}

#[test]
fn plain_keys_are_left_alone() {
    let payload = json!({"user": "ann", "city": "Oslo", "api": "v1", "key": "k", "auth": "x"});
    assert_eq!(redacted(payload.clone()), payload);
}

#[test]
fn llm_usage_counters_are_not_secrets() {
    let payload = json!({
        "tokens": 42,
        "token_count": 7,
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "total_tokens": 42,
        "max_tokens": 1024,
        "max_token": 1024,
        "tokens_used": 9,
        "tokensUsed": "9",
        "TOTAL_TOKENS": "9",
        "tokens2": "9",
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_read_input_tokens": 3,
        "promptTokenCount": 4,
        "candidates_token_count": 5,
        "token_index": 6,
        "usage": {
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "token_usage": {"total": 40},
        "token_limit": 8192,
        "tokenizer": "cl100k_base",
        "token_type": "Bearer",
        "generated": {"tokens": ["Hel", "lo"]},
    });
    assert_eq!(redacted(payload.clone()), payload);
}

#[test]
fn token_strings_and_objects_are_masked_but_not_counters() {
    assert_eq!(
        redacted(json!({"access_token": {"value": "a"}, "auth_token": ["a"], "token": 5})),
        json!({"access_token": "[REDACTED]", "auth_token": "[REDACTED]", "token": 5})
    );
}

#[test]
fn any_value_type_is_masked_except_null_and_booleans() {
    assert_eq!(
        redacted(json!({
            "password": 1234,
            "secret": {"nested": "x"},
            "cookie": ["a", "b"],
            "api_key": null,
            "password_set": true,
        })),
        json!({
            "password": "[REDACTED]",
            "secret": "[REDACTED]",
            "cookie": "[REDACTED]",
            "api_key": null,
            "password_set": true,
        })
    );
}

#[test]
fn nested_objects_and_arrays_are_walked() {
    assert_eq!(
        redacted(json!({
            "calls": [
                {"tool": "http", "args": {"headers": [{"Authorization": "Bearer x"}]}},
                [[{"client_secret": "y", "ok": 1}]],
            ],
        })),
        json!({
            "calls": [
                {"tool": "http", "args": {"headers": [{"Authorization": "[REDACTED]"}]}},
                [[{"client_secret": "[REDACTED]", "ok": 1}]],
            ],
        })
    );
    assert_eq!(
        redacted(json!(["token", "password"])),
        json!(["token", "password"])
    );
}

#[test]
fn error_details_run_meta_and_extra_are_redacted() {
    let mut error = ErrorInfo::new("HttpError", "401 for token abc");
    error
        .details
        .insert("request".into(), json!({"headers": {"cookie": "sid"}}));
    let run = RunContext::new("agent_execution").with_meta("api_key", "k");
    let mut event = Event::new("t.t").with_error(error).with_run(run.clone());
    event.extra.insert("password".into(), json!("pw"));
    assert!(Redaction::default().redact(&mut event));
    let error = event.error.as_deref().unwrap();
    assert_eq!(error.details["request"]["headers"]["cookie"], "[REDACTED]");
    assert_eq!(
        error.message, "401 for token abc",
        "free text is not scanned"
    );
    assert_eq!(event.run.as_deref().unwrap().meta["api_key"], "[REDACTED]");
    assert_eq!(event.run.as_deref().unwrap().run_id, run.run_id);
    assert_eq!(event.extra["password"], "[REDACTED]");
    assert_eq!(run.meta["api_key"], "k");
}

#[test]
fn shared_meta_and_run_are_cloned_on_write_only() {
    let first = Event::new("t.t")
        .with_meta("token", "abc")
        .with_run(RunContext::new("a").with_meta("secret", "s"));
    let mut second = first.clone();
    assert!(Arc::ptr_eq(&first.meta, &second.meta));
    assert!(Redaction::default().redact(&mut second));
    assert_eq!(second.meta["token"], "[REDACTED]");
    assert_eq!(second.run.as_deref().unwrap().meta["secret"], "[REDACTED]");
    assert_eq!(first.meta["token"], "abc");
    assert_eq!(first.run.as_deref().unwrap().meta["secret"], "s");

    let clean = Event::new("t.t")
        .with_meta("tenant", "demo")
        .with_run(RunContext::new("a"));
    let mut copy = clean.clone();
    assert!(!Redaction::default().redact(&mut copy));
    assert!(Arc::ptr_eq(&clean.meta, &copy.meta));
    assert!(Arc::ptr_eq(
        clean.run.as_ref().unwrap(),
        copy.run.as_ref().unwrap()
    ));
}

#[test]
fn nothing_to_redact_returns_false() {
    let mut event = Event::new("model.completed")
        .with_payload(json!({"tokens": 42, "text": "hi"}))
        .with_meta("tenant", "demo");
    let before = event.clone();
    let redaction = Redaction::default();
    assert!(!redaction.needs_redaction(&event));
    assert!(!redaction.redact(&mut event));
    assert_eq!(event.payload, before.payload);
    assert_eq!(event.meta, before.meta);
}

#[test]
fn needs_redaction_agrees_with_redact() {
    let redaction = Redaction::default();
    for payload in [
        json!(null),
        json!({"a": [{"b": {"password": "x"}}]}),
        json!({"token": 3}),
        json!({"token": "[REDACTED]"}),
        json!({"secret": false}),
    ] {
        let mut event = Event::new("t.t").with_payload(payload.clone());
        let needed = redaction.needs_redaction(&event);
        assert_eq!(needed, redaction.redact(&mut event), "{payload}");
    }
}

#[test]
fn user_keys_are_normalized_and_blank_ones_ignored() {
    let redaction = Redaction::none()
        .with_key("Social-Security")
        .with_key("")
        .with_key(" _-");
    assert_eq!(redaction.words.len(), 1);
    let mut event =
        Event::new("t.t").with_payload(json!({"social_security_no": "1", "password": "p"}));
    assert!(redaction.redact(&mut event));
    assert_eq!(
        event.payload,
        json!({"social_security_no": "[REDACTED]", "password": "p"})
    );
    assert_eq!(
        Redaction::default().with_key("TOKEN").words.len(),
        DEFAULT_WORDS.len()
    );
}

#[test]
fn non_ascii_and_long_keys_are_normalized() {
    let redaction = Redaction::none().with_key("Пароль");
    let mut event = Event::new("t.t").with_payload(json!({"ПАРОЛЬ_пользователя": "x"}));
    assert!(redaction.redact(&mut event));
    assert_eq!(event.payload["ПАРОЛЬ_пользователя"], "[REDACTED]");

    let long = format!("{}_password", "a".repeat(300));
    assert_eq!(redacted(json!({ &long: "x" }))[&long], "[REDACTED]");
}

#[test]
fn custom_mask_and_disabled_redaction() {
    let mut event = Event::new("t.t").with_payload(json!({"token": "abc"}));
    assert!(!Redaction::none().redact(&mut event));
    assert!(Redaction::default()
        .with_mask(json!(null))
        .redact(&mut event));
    assert_eq!(event.payload, json!({"token": null}));
}

#[test]
fn size_limit_cuts_at_a_char_boundary_with_a_visible_marker() {
    // 'é' is two bytes: an odd cut point must step back to a boundary.
    let text = "é".repeat(100);
    let mut event = Event::new("t.t").with_payload(json!({"a": [text.clone()], "b": "short"}));
    let limit = SizeLimit::new(65);
    assert!(limit.apply(&mut event));
    let cut = event.payload["a"][0].as_str().unwrap();
    assert!(cut.len() <= 65, "{}", cut.len());
    let (kept, marker) = cut.split_at(cut.find('…').unwrap());
    assert!(text.starts_with(kept));
    let dropped = text.len() - kept.len();
    assert_eq!(marker, format!("…[truncated {dropped} bytes]"));
    assert_eq!(event.payload["b"], "short");
    assert_eq!(event.meta["truncated"], true);
    assert_eq!(event.meta["truncated_bytes"], dropped as u64);
}

#[test]
fn size_limit_covers_message_error_meta_and_sums_the_flag() {
    let long = "x".repeat(200);
    let mut error = ErrorInfo::new("E", long.clone());
    error.traceback = Some(long.clone());
    error.details.insert("body".into(), json!(long.clone()));
    let shared = Event::new("t.t").with_meta("prompt", long.clone());
    let mut event = shared.clone().with_message(long.clone()).with_error(error);
    let limit = SizeLimit::new(100);
    assert!(limit.apply(&mut event));
    let error = event.error.as_deref().unwrap();
    for text in [
        event.message.as_deref().unwrap(),
        &error.message,
        error.traceback.as_deref().unwrap(),
        error.details["body"].as_str().unwrap(),
        event.meta["prompt"].as_str().unwrap(),
    ] {
        assert!(text.len() <= 100 && text.ends_with("bytes]"), "{text}");
    }
    let per_string = 200 - event.message.as_deref().unwrap().find('…').unwrap();
    assert_eq!(event.meta["truncated_bytes"], (5 * per_string) as u64);
    assert_eq!(
        shared.meta["prompt"], long,
        "shared meta is cloned on write"
    );

    // A second, tighter pass adds to the count.
    assert!(SizeLimit::new(64).apply(&mut event));
    assert!(event.meta["truncated_bytes"].as_u64().unwrap() > (5 * per_string) as u64);
}

#[test]
fn size_limit_within_bounds_is_a_no_op() {
    let event = Event::new("t.t")
        .with_payload(json!({"a": "x".repeat(64)}))
        .with_meta("m", "y".repeat(64));
    let mut copy = event.clone();
    assert!(!SizeLimit::new(64).apply(&mut copy));
    assert!(Arc::ptr_eq(&event.meta, &copy.meta));
    assert_eq!(copy.payload, event.payload);
}

/// The matching rule written the slow, obvious way: build the normalized
/// key (remembering where each byte came from), search it with `find`.
fn reference_class(redaction: &Redaction, key: &str) -> Class {
    let ascii = key.is_ascii();
    let (normal, origin): (String, Vec<usize>) = if ascii {
        key.char_indices()
            .filter(|(_, c)| c.is_ascii_alphanumeric())
            .map(|(at, c)| (c.to_ascii_lowercase(), at))
            .unzip()
    } else {
        let normal: String = key
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let origin = (0..normal.len()).collect();
        (normal, origin)
    };
    // Where the byte after normalized position `at` is, in the key the
    // scanner sees (the raw key if ASCII, else the normalized one).
    let raw_after = |at: usize| match at.checked_sub(1) {
        Some(last) if ascii => origin[last] + 1,
        _ => at,
    };
    let scanned = if ascii {
        key.as_bytes()
    } else {
        normal.as_bytes()
    };
    let mut class = Class::Plain;
    for word in redaction.words.iter() {
        let mut from = 0;
        while let Some(found) = normal[from..].find(&*word.text) {
            let start = from + found;
            from = start + 1;
            if !word.usage_aware {
                return Class::Secret;
            }
            let rest = &normal[start + word.text.len()..];
            let usage = TOKEN_USAGE_SUFFIXES.iter().any(|s| rest.starts_with(s))
                || (rest.starts_with('s')
                    && ends_word(scanned, raw_after(start + word.text.len() + 1)));
            if !usage {
                class = Class::Token;
            }
        }
    }
    class
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

    #[test]
    fn classify_agrees_with_the_reference(
        parts in proptest::collection::vec(
            proptest::sample::select(&[
                "token", "TOKEN", "Token", "s", "S", "_", "-", " ", ".", "2", "count",
                "usage", "limit", "is", "iz", "type", "used", "Used", "string", "api",
                "Key", "key", "secret", "pass", "word", "cookie", "auth", "orization",
                "x", "é", "ТОКЕН", "токен", "ok", "en", "t",
            ][..]),
            0..7,
        )
    ) {
        let key = parts.concat();
        let redaction = Redaction::default().with_key("ТОКЕН");
        proptest::prop_assert_eq!(redaction.classify(&key), reference_class(&redaction, &key));
    }
}

#[test]
fn stages_are_shareable_across_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<Redaction>();
    shareable::<SizeLimit>();
    let debug = format!("{:?}", Redaction::none().with_key("SSN"));
    assert!(
        debug.contains("ssn") && debug.contains("[REDACTED]"),
        "{debug}"
    );
}

#[test]
fn marker_always_fits_even_for_huge_strings() {
    assert_eq!(marker_len(0), "…[truncated 0 bytes]".len());
    assert_eq!(marker_len(usize::MAX), "…[truncated  bytes]".len() + 20);
    assert!(marker_len(usize::MAX) < SizeLimit::MIN_BYTES);
    let text = "y".repeat(1_000_000);
    let (keep, dropped) = cut_point(64, &text).unwrap();
    assert!(keep + marker_len(dropped) <= 64);
}
