//! A verdict hook with a blank name, or a name its point already has, is a
//! typed error naming the point and the hook, and the point keeps its hooks.

use event_center::{
    DecisionErrorKind, Decisions, ErrorDisposition, ErrorInfo, EventCenter, Trigger,
};
use serde_json::json;

#[test]
fn a_blank_or_duplicate_verdict_hook_name_is_refused() {
    let decisions = Decisions::new(&EventCenter::new());
    decisions.on_trigger("auth", |_: &Trigger| true).unwrap();

    let err = decisions
        .on_trigger("auth", |_: &Trigger| false)
        .unwrap_err();
    assert_eq!(
        (err.point(), err.hook(), err.kind()),
        ("trigger", "auth", &DecisionErrorKind::DuplicateName)
    );
    assert!(err.to_string().contains("already has a hook named `auth`"));

    let err = decisions
        .on_trigger(" \t", |_: &Trigger| false)
        .unwrap_err();
    assert_eq!(err.kind(), &DecisionErrorKind::EmptyName);

    // The refused hooks were not added: the trigger is still qualified.
    assert_eq!(decisions.triggers().hook_names(), ["auth"]);
    assert!(decisions
        .qualify(&Trigger::new("t", json!(null)))
        .is_qualified());

    // Names are per point: the error point may use the same name.
    decisions
        .on_error("auth", |_: &ErrorInfo| ErrorDisposition::Continue)
        .unwrap();
}
