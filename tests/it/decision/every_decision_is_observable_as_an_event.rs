//! Every decision reaches observation hooks as a `decision.<point>.<verdict>`
//! event carrying the verdict, the deciding hooks, the hook count, the input
//! and the current run.

use event_center::{
    DecisionPoint, Decisions, ErrorDisposition, ErrorInfo, EventCenter, RunContext, Trigger,
    TurnEnd,
};
use serde_json::json;

#[test]
fn every_decision_is_observable_as_an_event() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "devtools", "decision.*");

    let decisions = Decisions::new(&center);
    decisions
        .on_trigger("vip-only", |t: &Trigger| t.body["tier"] == "vip")
        .unwrap();
    decisions.on_trigger("open", |_: &Trigger| true).unwrap();
    decisions
        .on_error("tolerant", |_: &ErrorInfo| ErrorDisposition::Continue)
        .unwrap();
    decisions
        .on_turn_end("shorten", |t: &TurnEnd| {
            Some(json!(t.result.as_str().unwrap_or_default().len()))
        })
        .unwrap();

    let run = RunContext::new("agent_execution");
    let run_id = run.run_id.clone();
    let trigger = Trigger::new("webhook", json!({"tier": "free"})).with_session_id("s-1");
    run.in_scope(|| {
        let q = decisions.qualify(&trigger);
        decisions.dispose(&ErrorInfo::new("Timeout", "slow"));
        decisions.turn_end(TurnEnd::new(
            trigger.clone(),
            q.is_qualified(),
            json!("abc"),
        ));
        decisions.qualify(&Trigger::new("webhook", json!({"tier": "vip"})));
    });
    let custom: DecisionPoint<u8, bool> = DecisionPoint::new(&center, "handoff");
    custom.qualify(&1);

    let seen = seen.lock().unwrap();
    let types: Vec<&str> = seen.iter().map(|e| &*e.event_type).collect();
    assert_eq!(
        types,
        [
            "decision.trigger.disqualified",
            "decision.error.continued",
            "decision.turn_end.replaced",
            "decision.trigger.qualified",
            "decision.handoff.qualified",
        ]
    );
    assert!(seen.iter().all(|e| e.source == "decisions"));
    assert!(seen[..4]
        .iter()
        .all(|e| e.run.as_ref().map(|r| &r.run_id) == Some(&run_id)));
    assert!(seen[4].run.is_none());

    let p = &seen[0].payload;
    assert_eq!(p["point"], "trigger");
    assert_eq!(p["verdict"], "disqualified");
    assert_eq!(p["hooks"], 2);
    assert_eq!(p["decided_by"], json!(["vip-only"]));
    assert_eq!(p["failed"], json!([]));
    assert_eq!(p["input"]["trigger"], "webhook");
    assert_eq!(p["input"]["session_id"], "s-1");
    assert_eq!(p["input"]["body"], json!({"tier": "free"}));

    let p = &seen[1].payload;
    assert_eq!(
        (&p["verdict"], &p["decided_by"]),
        (&json!("continued"), &json!(["tolerant"]))
    );
    assert_eq!(p["input"]["type"], "Timeout");

    let p = &seen[2].payload;
    assert_eq!(p["decided_by"], json!(["shorten"]));
    assert_eq!(p["input"]["qualified"], false);
    assert_eq!(p["input"]["result"], 3);

    assert_eq!(seen[3].payload["decided_by"], json!([]));
    let p = &seen[4].payload;
    assert_eq!((&p["point"], &p["hooks"]), (&json!("handoff"), &json!(0)));
    assert!(p.get("input").is_none());
}
