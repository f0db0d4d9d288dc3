//! One `false` disqualifies the trigger, and the hooks after it are still
//! asked (as Minded runs every trigger handler), in registration order.

use std::sync::{Arc, Mutex};

use event_center::{Decisions, EventCenter, Trigger};
use serde_json::json;

#[test]
fn any_false_disqualifies_yet_every_qualification_hook_runs() {
    let decisions = Decisions::new(&EventCenter::new());
    let asked = Arc::new(Mutex::new(Vec::new()));
    for (name, verdict) in [
        ("open", true),
        ("auth", false),
        ("late", true),
        ("quota", false),
    ] {
        let asked = asked.clone();
        decisions
            .on_trigger(name, move |_: &Trigger| {
                asked.lock().unwrap().push(name);
                verdict
            })
            .unwrap();
    }

    let q = decisions.qualify(&Trigger::new("webhook", json!({})));
    assert!(!q.is_qualified());
    assert_eq!(q.disqualified_by(), ["auth", "quota"]);
    assert!(q.failed().is_empty());
    assert_eq!(q.hook_count(), 4);
    assert_eq!(*asked.lock().unwrap(), ["open", "auth", "late", "quota"]);

    // Only `true` answers: qualified.
    decisions.triggers().remove("auth");
    decisions.triggers().remove("quota");
    assert!(decisions
        .qualify(&Trigger::new("webhook", json!({})))
        .is_qualified());
}
