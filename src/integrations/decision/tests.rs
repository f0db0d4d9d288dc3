//! Unit tests of the decision points' event types and thread safety.

use super::*;

#[test]
fn standard_points_use_literal_event_types() {
    let types = EventTypes::new("trigger");
    assert!(types.qualified.static_key().is_some());
    assert_eq!(&*types.disqualified, "decision.trigger.disqualified");
    let custom = EventTypes::new("refund");
    assert!(custom.qualified.static_key().is_none());
    assert_eq!(&*custom.thrown, "decision.refund.thrown");
}

#[test]
fn points_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Decisions>();
    assert_send_sync::<DecisionPoint<std::rc::Rc<u8>, std::rc::Rc<u8>>>();
}
