//! Bytes as an event type (the first line) and a few patterns (the next
//! lines).
//!
//! `Pattern::new`, `PatternSet::new` and `EventCenter::register_hook` return
//! a value or a typed error (`PatternError`, `RegisterError`) that names the
//! bad pattern, never a panic, and agree on which pattern is bad. Matching
//! agrees with a small reference matcher for `*` and `?`. When a hook
//! registers, an emit reaches it exactly when its patterns match the event
//! type: directly on a center without the compatibility layer, or through
//! the legacy aliases and the action -> tool twin on a default center.
//!
//! Any panic aborts the run (libfuzzer-sys installs an aborting panic hook).

#![no_main]

use std::sync::{Arc, Mutex};

use event_center::{
    Compat, Event, EventCenter, Pattern, PatternError, PatternSet, RegisterError, RegisterErrorKind,
};
use libfuzzer_sys::fuzz_target;

/// At most this many pattern lines are read; the rest is ignored.
const MAX_PATTERNS: usize = 6;

/// What each hook received, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// Whether a hook's patterns match an event type (aliases not considered).
type Matcher<'a> = Box<dyn Fn(&str) -> bool + 'a>;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let event_type = lines.next().unwrap_or_default();
    let texts: Vec<&str> = lines.take(MAX_PATTERNS).collect();

    // One pattern at a time.
    let compiled: Vec<Result<Pattern, PatternError>> =
        texts.iter().map(|text| Pattern::new(text)).collect();
    for (text, result) in texts.iter().zip(&compiled) {
        match result {
            Ok(pattern) => check_pattern(text, pattern, event_type),
            Err(error) => check_pattern_error(text, error),
        }
    }
    let first_error = compiled.iter().find_map(|r| r.as_ref().err());

    // The whole list as one set.
    let set = PatternSet::new(texts.clone());
    match (&set, first_error) {
        (Ok(set), None) => {
            assert!(!set.is_all());
            let any = compiled
                .iter()
                .flatten()
                .any(|pattern| pattern.matches(event_type));
            assert_eq!(
                set.matches(event_type),
                any,
                "PatternSet::matches disagrees with its patterns"
            );
        }
        (Err(error), Some(first)) => assert_eq!(error, first, "the first bad pattern is named"),
        _ => panic!("PatternSet::new and Pattern::new disagree: {set:?} vs {first_error:?}"),
    }

    for compat in [Compat::none(), Compat::agently()] {
        check_delivery(&compat, event_type, &texts, &compiled, first_error);
    }
});

fn check_pattern(text: &str, pattern: &Pattern, event_type: &str) {
    assert_eq!(pattern.as_str(), text);
    assert_eq!(pattern.to_string(), text);
    let matched = pattern.matches(event_type);
    if !text.contains(['*', '?', '[', ']']) {
        assert!(
            pattern.is_exact(),
            "no metacharacter, yet not exact: {text:?}"
        );
    }
    if pattern.is_exact() {
        assert_eq!(matched, text == event_type, "exact pattern {text:?}");
    }
    if !text.contains(['[', ']']) && !text.contains("**") {
        assert_eq!(
            matched,
            reference_match(text, event_type),
            "pattern {text:?} on {event_type:?} disagrees with the reference matcher"
        );
    }
}

fn check_pattern_error(text: &str, error: &PatternError) {
    assert_eq!(error.pattern(), text, "the error names the pattern");
    let message = error.to_string();
    assert!(message.contains(text), "{message:?} does not name {text:?}");
    let _ = format!("{error:?} {:?}", error.kind());
}

fn check_register_error(name: &str, error: &RegisterError, expected: Option<&PatternError>) {
    assert_eq!(error.name(), name);
    let message = error.to_string();
    assert!(!message.is_empty());
    let _ = format!("{error:?}");
    match (error.kind(), expected) {
        (RegisterErrorKind::InvalidPattern(got), Some(expected)) => {
            assert_eq!(got, expected, "register_hook names another bad pattern");
            assert!(
                message.contains(expected.pattern()),
                "{message:?} does not name {:?}",
                expected.pattern()
            );
        }
        (kind, expected) => panic!("unexpected registration error {kind:?}, wanted {expected:?}"),
    }
}

/// Registers the list as one hook and each good pattern as its own hook,
/// emits `event_type` twice, and checks who received what.
fn check_delivery(
    compat: &Compat,
    event_type: &str,
    texts: &[&str],
    compiled: &[Result<Pattern, PatternError>],
    first_error: Option<&PatternError>,
) {
    let center = EventCenter::builder().with_compat(compat.clone()).build();
    let mut hooks: Vec<(Matcher<'_>, Log)> = Vec::new();

    let log = Log::default();
    let sink = log.clone();
    let registered = center.register_hook("set", texts.to_vec(), move |event: &Event| {
        sink.lock().unwrap().push(event.event_type.to_string());
    });
    match registered {
        Ok(()) => {
            assert!(
                first_error.is_none(),
                "register_hook accepted a bad pattern"
            );
            let any = |t: &str| compiled.iter().flatten().any(|p| p.matches(t));
            hooks.push((Box::new(any), log));
        }
        Err(error) => check_register_error("set", &error, first_error),
    }
    for (i, pattern) in compiled.iter().enumerate() {
        let name = format!("p{i}");
        let log = Log::default();
        let sink = log.clone();
        let registered = center.register_hook(name.clone(), texts[i], move |event: &Event| {
            sink.lock().unwrap().push(event.event_type.to_string());
        });
        match (registered, pattern) {
            (Ok(()), Ok(pattern)) => hooks.push((Box::new(|t| pattern.matches(t)), log)),
            (Err(error), Err(expected)) => check_register_error(&name, &error, Some(expected)),
            (registered, _) => panic!("register_hook and Pattern::new disagree: {registered:?}"),
        }
    }

    // Who should receive an emit of `event_type`: the event itself when a
    // pattern matches its type or an alias, then its twin likewise.
    let reaches = |matches: &dyn Fn(&str) -> bool, t: &str| {
        matches(t) || compat.aliases(t).iter().any(|alias| matches(alias))
    };
    let twin = compat.mirror_of(event_type).map(|(twin, _)| twin);
    let expected_for = |matches: &dyn Fn(&str) -> bool| {
        let mut expected = Vec::new();
        if reaches(matches, event_type) {
            expected.push(event_type.to_owned());
        }
        if let Some(twin) = &twin {
            if reaches(matches, twin) {
                expected.push(twin.clone());
            }
        }
        expected
    };
    let listened = hooks
        .iter()
        .any(|(matches, _)| !expected_for(matches.as_ref()).is_empty());
    assert_eq!(
        center.is_listened(event_type),
        listened,
        "is_listened({event_type:?})"
    );

    let emitter = center.emitter("fuzz");
    emitter.emit(event_type.to_owned()).send();
    emitter.emit(event_type.to_owned()).send(); // the second one hits the resolution cache
    for (matches, log) in &hooks {
        let once = expected_for(matches.as_ref());
        let expected: Vec<String> = once.iter().chain(&once).cloned().collect();
        assert_eq!(
            *log.lock().unwrap(),
            expected,
            "delivery of {event_type:?} to {texts:?}"
        );
    }

    // After unregistering, nothing more arrives.
    if center.unregister_hook("set") {
        let before = hooks[0].1.lock().unwrap().len();
        emitter.emit(event_type.to_owned()).send();
        assert_eq!(
            hooks[0].1.lock().unwrap().len(),
            before,
            "delivered after unregister"
        );
    }
    let stats = center.stats();
    assert_eq!(stats.hook_failures, 0, "a fuzz hook failed");
}

/// `*` any run of characters, `?` exactly one character, anything else
/// itself (the glob syntax without classes and `**`).
fn reference_match(pattern: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    // reach[j]: the pattern so far matches text[..j].
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for p in pattern.chars() {
        let mut next = vec![false; text.len() + 1];
        match p {
            '*' => {
                let mut any = false;
                for j in 0..=text.len() {
                    any |= reach[j];
                    next[j] = any;
                }
            }
            _ => {
                for j in 0..text.len() {
                    next[j + 1] = reach[j] && (p == '?' || p == text[j]);
                }
            }
        }
        reach = next;
    }
    reach[text.len()]
}
