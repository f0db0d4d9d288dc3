//! A verdict hook may add or remove hooks of its own point, and take
//! another decision, from inside its call without deadlock; the decision
//! under way keeps asking the hooks it started with.

use std::sync::{Arc, OnceLock};

use event_center::{Decisions, EventCenter, Trigger};
use serde_json::json;

#[test]
fn verdict_hooks_may_change_the_point_from_inside_a_decision() {
    let decisions = Decisions::new(&EventCenter::new());
    let handle: Arc<OnceLock<Decisions>> = Arc::default();
    let inside = handle.clone();
    decisions
        .on_trigger("installer", move |t: &Trigger| {
            let decisions = inside.get().expect("set before the first decision");
            if t.name == "install" {
                decisions.on_trigger("gate", |_: &Trigger| false).unwrap();
                assert!(decisions.triggers().remove("installer"));
                // A nested decision sees the new hooks.
                assert!(!decisions
                    .qualify(&Trigger::new("nested", json!(null)))
                    .is_qualified());
            }
            true
        })
        .unwrap();
    handle.set(decisions.clone()).unwrap();

    // The decision under way asked only the hooks it started with.
    let q = decisions.qualify(&Trigger::new("install", json!(null)));
    assert!(q.is_qualified());
    assert_eq!(q.hook_count(), 1);

    assert_eq!(decisions.triggers().hook_names(), ["gate"]);
    let q = decisions.qualify(&Trigger::new("later", json!(null)));
    assert_eq!(q.disqualified_by(), ["gate"]);
}
