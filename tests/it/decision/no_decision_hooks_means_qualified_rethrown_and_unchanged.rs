//! With no verdict hooks, every point takes its default: the trigger is
//! qualified, the error is rethrown, the turn keeps its result.

use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter, Trigger, TurnEnd};
use serde_json::json;

#[test]
fn no_decision_hooks_means_qualified_rethrown_and_unchanged() {
    let decisions = Decisions::new(&EventCenter::new());
    let trigger = Trigger::new("webhook", json!({"customer_id": 7}));

    let qualification = decisions.qualify(&trigger);
    assert!(qualification.is_qualified());
    assert!(qualification.disqualified_by().is_empty());
    assert_eq!(qualification.hook_count(), 0);

    let error = ErrorInfo::new("Timeout", "no answer").with_retryable(true);
    assert_eq!(decisions.dispose(&error), ErrorDisposition::Throw);

    let result = json!({"reply": "hello", "tokens": 12});
    let turn = TurnEnd::new(trigger, true, result.clone());
    assert_eq!(decisions.turn_end(turn), result);
}
