//! A pattern that does not compile (or that uses syntax the glob engine would
//! silently misread) is a registration error naming the pattern; nothing is
//! registered, and the center stays usable.

use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_center::{Event, EventCenter, PatternErrorKind, RegisterErrorKind};

fn pattern_error(center: &EventCenter, patterns: Vec<&str>) -> (String, String, PatternErrorKind) {
    let err = center
        .register_hook("bad", patterns.clone(), |_: &Event| {})
        .expect_err("an invalid pattern must be refused");
    assert_eq!(err.name(), "bad");
    let RegisterErrorKind::InvalidPattern(pattern) = err.kind() else {
        panic!(
            "{patterns:?}: expected InvalidPattern, got {:?}",
            err.kind()
        );
    };
    // The pattern error is the source, for error reporters that walk chains.
    assert_eq!(
        err.source().map(|s| s.to_string()),
        Some(pattern.to_string())
    );
    (
        err.to_string(),
        pattern.pattern().to_owned(),
        pattern.kind().clone(),
    )
}

#[test]
fn an_unclosed_class_is_rejected_naming_the_pattern() {
    let center = EventCenter::new();
    let (display, pattern, kind) = pattern_error(&center, vec!["tool.["]);
    assert_eq!(pattern, "tool.[");
    assert!(display.contains("`tool.[`"), "{display}");
    assert!(display.contains("`bad`"), "{display}");
    assert!(matches!(kind, PatternErrorKind::Syntax { .. }), "{kind:?}");
    assert!(center.hook_names().is_empty());
}

#[test]
fn braces_are_rejected_with_advice() {
    let center = EventCenter::new();
    let (display, pattern, kind) = pattern_error(&center, vec!["model.{a,b}"]);
    assert_eq!(pattern, "model.{a,b}");
    assert_eq!(kind, PatternErrorKind::Braces);
    assert!(display.contains("`model.{a,b}`"), "{display}");
    assert!(display.contains("one pattern per alternative"), "{display}");
    assert!(center.hook_names().is_empty());
}

#[test]
fn the_empty_pattern_is_rejected() {
    let center = EventCenter::new();
    let (display, pattern, kind) = pattern_error(&center, vec![""]);
    assert_eq!(pattern, "");
    assert_eq!(kind, PatternErrorKind::Empty);
    assert!(display.contains("empty event pattern"), "{display}");
    assert!(center.hook_names().is_empty());
}

#[test]
fn a_recursive_wildcard_is_rejected_with_advice() {
    let center = EventCenter::new();
    let (display, pattern, kind) = pattern_error(&center, vec!["a.**.b"]);
    assert_eq!(pattern, "a.**.b");
    assert!(matches!(kind, PatternErrorKind::Syntax { .. }), "{kind:?}");
    assert!(display.contains("`a.**.b`"), "{display}");
    assert!(display.contains("single `*`"), "{display}");
    assert!(center.hook_names().is_empty());
}

#[test]
fn one_bad_pattern_in_a_list_refuses_the_whole_hook() {
    let center = EventCenter::new();
    let (display, pattern, _) = pattern_error(&center, vec!["ok.*", "exact.name", "bad.["]);
    assert_eq!(pattern, "bad.[");
    assert!(display.contains("`bad.[`"), "{display}");
    assert!(center.hook_names().is_empty());
    assert!(!center.is_listened("ok.thing"));
    assert!(!center.is_listened("exact.name"));
}

#[test]
fn a_valid_registration_after_refusals_works() {
    let center = EventCenter::new();
    for bad in ["tool.[", "model.{a,b}", "", "a.**.b"] {
        pattern_error(&center, vec![bad]);
    }
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    // The refused name is free to use.
    center
        .register_hook("bad", ["tool.*", "model.a"], move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    assert_eq!(center.hook_names(), ["bad"]);

    let emitter = center.emitter("S");
    emitter.emit("tool.called").send();
    emitter.emit("model.a").send();
    emitter.emit("model.b").send();
    emitter.emit("tool.[").send();
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn a_duplicate_name_is_refused_and_the_first_hook_stays() {
    let center = EventCenter::new();
    let first = Arc::new(AtomicUsize::new(0));
    let counter = first.clone();
    center
        .register_hook("sink", "a.*", move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();

    let second = Arc::new(AtomicUsize::new(0));
    let counter = second.clone();
    let err = center
        .register_hook("sink", "b.*", move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap_err();
    assert_eq!(err.kind(), &RegisterErrorKind::DuplicateName);
    assert_eq!(err.name(), "sink");
    assert!(err.to_string().contains("`sink`"), "{err}");
    assert!(err.to_string().contains("replace_hook"), "{err}");

    // A duplicate name with a bad pattern reports the pattern first.
    let err = center
        .register_hook("sink", "c.[", |_: &Event| {})
        .unwrap_err();
    assert!(matches!(err.kind(), RegisterErrorKind::InvalidPattern(_)));

    assert_eq!(center.hook_names(), ["sink"]);
    center.emitter("S").emit("a.x").send();
    center.emitter("S").emit("b.x").send();
    assert_eq!(first.load(Ordering::SeqCst), 1);
    assert_eq!(second.load(Ordering::SeqCst), 0);
}

#[test]
fn a_blank_name_is_refused() {
    let center = EventCenter::new();
    let err = center
        .register_hook("  ", "a.*", |_: &Event| {})
        .unwrap_err();
    assert_eq!(err.kind(), &RegisterErrorKind::EmptyName);
    assert!(center.hook_names().is_empty());
}
