//! `collect` asks every hook and hands back every answer, failures
//! included, in registration order, without folding them.

use event_center::{DecisionPoint, Decisions, EventCenter, Trigger};
use serde_json::json;

#[test]
fn collect_returns_every_answer_in_registration_order() {
    let center = EventCenter::new();
    let decisions = Decisions::new(&center);
    decisions.on_trigger("zeta", |_: &Trigger| true).unwrap();
    decisions.on_trigger("alpha", |_: &Trigger| false).unwrap();
    decisions
        .on_trigger("broken", |_: &Trigger| -> bool { panic!("lookup failed") })
        .unwrap();
    decisions.on_trigger("mid", |_: &Trigger| true).unwrap();

    let answers = decisions
        .triggers()
        .collect(&Trigger::new("webhook", json!({})));
    let names: Vec<&str> = answers.iter().map(|a| a.hook()).collect();
    assert_eq!(names, ["zeta", "alpha", "broken", "mid"]);
    assert_eq!(answers[0].result(), &Ok(true));
    assert_eq!(answers[1].result(), &Ok(false));
    let failure = answers[2].result().as_ref().unwrap_err();
    assert_eq!(failure.error_type, "panic");
    assert_eq!(failure.message, "lookup failed");
    assert_eq!(answers[3].result(), &Ok(true));

    // Any answer type, on a point of the caller's own.
    let scores: DecisionPoint<&str, usize> = DecisionPoint::new(&center, "score");
    scores.on("length", |s: &&str| s.len()).unwrap();
    scores.on("words", |s: &&str| s.split(' ').count()).unwrap();
    let answers: Vec<_> = scores
        .collect(&"book a flight")
        .into_iter()
        .map(|a| (a.hook().to_owned(), a.into_result().unwrap()))
        .collect();
    assert_eq!(
        answers,
        [("length".to_owned(), 13), ("words".to_owned(), 3)]
    );
}
