//! A child run's entries come right after the `agent_call` that started it,
//! even when the parent's own events interleave in time; a grandchild's
//! entries follow its own `agent_call` inside the child's.

use event_center::{Event, RunContext, Transcript, TranscriptMapping};
use serde_json::json;

fn at(event_type: &str, t: i64, run: &RunContext, text: &str) -> Event {
    Event::new(event_type.to_owned())
        .with_timestamp(t)
        .with_run(run.clone())
        .with_payload(json!({"text": text}))
}

#[test]
fn child_runs_follow_their_parents_agent_call() {
    let root = RunContext::new("agent_execution")
        .with_run_id("root")
        .with_agent_name("Planner");
    let child = root
        .child("agent_execution")
        .with_run_id("child")
        .with_agent_name("Researcher");
    let grandchild = child
        .child("agent_execution")
        .with_run_id("grandchild")
        .with_agent_name("Fetcher");
    let events = [
        at("user.message", 1, &root, "plan my trip"),
        at("model.completed", 2, &root, "asking the researcher"),
        at("agent_execution.started", 3, &child, "find flights"),
        at("model.completed", 4, &root, "meanwhile: planning hotels"),
        at("model.completed", 5, &child, "researching"),
        at("subagent.started", 6, &grandchild, "fetch prices"),
        at("model.completed", 7, &root, "hotels planned"),
        at("model.completed", 8, &grandchild, "prices fetched"),
        at("model.completed", 9, &child, "flights found"),
        at("model.completed", 10, &root, "here is your trip"),
    ];
    let transcript = Transcript::from_events(events, &TranscriptMapping::agently());
    let lines: Vec<String> = transcript
        .entries()
        .iter()
        .map(|e| {
            let text = e
                .attributes
                .get("content")
                .or_else(|| e.label.as_ref().map(|_| &e.attributes["external_id"]));
            format!(
                "{} {}",
                e.event_type,
                text.and_then(|t| t.as_str()).unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "user_message plan my trip",
            "assistant_message asking the researcher",
            "agent_call Researcher",
            "assistant_message researching",
            "agent_call Fetcher",
            "assistant_message prices fetched",
            "assistant_message flights found",
            "assistant_message meanwhile: planning hotels",
            "assistant_message hotels planned",
            "assistant_message here is your trip",
        ]
    );
    let call = &transcript.entries()[2];
    assert_eq!(call.label.as_deref(), Some("Agent Call: Researcher"));
    assert_eq!(call.attributes["run_id"], "child");
    assert_eq!(call.attributes["input"], json!({"text": "find flights"}));
}
