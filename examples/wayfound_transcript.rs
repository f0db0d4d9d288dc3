//! Connecting an agent's session to Wayfound.
//!
//! Wayfound's AI supervisor reads a session as a transcript: user and
//! assistant messages, reasoning steps, tool calls (with their success and
//! latency), calls to other agents, user feedback. This example records a
//! small project-status agent with an event center, turns its events into
//! that transcript, and builds the request Wayfound's sessions API takes.
//!
//! ```text
//! cargo run --example wayfound_transcript --features wayfound
//! ```
//!
//! With the `wayfound-http` feature and `WAYFOUND_API_KEY` and
//! `WAYFOUND_AGENT_ID` set (the agent id is on the agent's Connection page),
//! it also sends the session and waits for the supervisor's grade:
//!
//! ```text
//! WAYFOUND_API_KEY=... WAYFOUND_AGENT_ID=... \
//!     cargo run --example wayfound_transcript --features wayfound-http
//! ```

use std::sync::{Arc, Mutex};

use event_center::{
    Event, EventCenter, Patterns, RunContext, SizeBudget, Transcript, TranscriptMapping,
    WayfoundSession,
};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Record the session: a hook keeps every event of the run.
    let center = EventCenter::new();
    let recorded: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = recorded.clone();
    center.register_hook("wayfound-recorder", Patterns::All, move |event: &Event| {
        if let Ok(mut events) = sink.lock() {
            events.push(event.clone());
        }
    })?;

    let run = RunContext::new("agent_execution").with_agent_name("ProjectAssistant");
    let agent = center.emitter("ProjectAssistant").with_run(run.clone());

    // The user asks for the status of Project Alpha.
    agent
        .emit("user.message")
        .payload(json!("What's the current status of Project Alpha?"))
        .send();
    // The agent decides what to fetch first (a reasoning step).
    agent
        .emit("agent.reasoning")
        .payload(json!(
            "Fetch high-level project data, then drill into trends."
        ))
        .send();
    // A tool call: its start and its completion become one `tool_call`.
    agent
        .emit("tool.started")
        .message("Fetch summary for Project Alpha")
        .payload(
            json!({"call_id": "call-1", "tool_name": "PMService", "input": {"projectId": "Alpha"}}),
        )
        .send();
    agent
        .emit("tool.completed")
        .payload(json!({"call_id": "call-1", "output": {"status": "On Track", "completion": 80}}))
        .send();
    agent
        .emit("model.completed")
        .payload(json!({
            "text": "Project Alpha is On Track with 80% completion to date.",
            "model": "gpt-4",
            "tokens": 18
        }))
        .send();

    // A call to another agent: a child run, whose events follow the call.
    let risk_run = run.child("agent_execution").with_agent_name("RiskAgent");
    let risk = center.emitter("RiskAgent").with_run(risk_run);
    risk.emit("agent_execution.started")
        .message("Requested project risk evaluation")
        .payload(json!({"projectId": "Alpha"}))
        .send();
    risk.emit("tool.started")
        .payload(
            json!({"call_id": "call-2", "tool_name": "RiskModel", "input": {"projectId": "Alpha"}}),
        )
        .send();
    risk.emit("tool.completed")
        .payload(json!({"call_id": "call-2", "output": {"score": 2.1, "schedule_variance": 0.05}}))
        .send();

    agent
        .emit("model.completed")
        .payload(json!({
            "text": "Risk score for Project Alpha is 2.1/5 (Low), with schedule variance at 5%.",
            "model": "gpt-4",
            "tokens": 22
        }))
        .send();
    // The user gives a thumbs-up.
    agent
        .emit("feedback.given")
        .message("User gave a thumbs-up on the risk report")
        .payload(json!({"feedback_type": "thumbs_up_down", "rating": "thumbs_up"}))
        .send();

    // 2. Turn the events into Wayfound's transcript.
    let events = recorded.lock().map(|e| e.clone()).unwrap_or_default();
    let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
    println!(
        "{} events -> {} transcript entries:",
        events.len(),
        transcript.len()
    );
    for entry in transcript.entries() {
        let text = ["content", "thought"]
            .iter()
            .find_map(|key| entry.attributes.get(*key).and_then(|v| v.as_str()));
        let summary = entry
            .label
            .as_deref()
            .or(text)
            .or(entry.description.as_deref());
        println!(
            "  {:<17} {}",
            entry.event_type.as_str(),
            summary.unwrap_or("")
        );
    }

    // 3. Build the session request: within 700 KB of messages per request,
    //    20,000 characters per field.
    let agent_id = std::env::var("WAYFOUND_AGENT_ID").unwrap_or_else(|_| "<AGENT_ID>".into());
    let session = WayfoundSession::new(agent_id)
        .with_visitor("visitor@example.com", "Example Visitor")
        .with_async(false); // wait for the supervisor's analysis
    let requests = session.requests(&transcript, &SizeBudget::default());
    for request in &requests {
        println!(
            "\n{} {}",
            request.method(),
            request.path(Some("<session id>"))
        );
        println!("{}", serde_json::to_string_pretty(request)?);
    }

    // 4. Send it (feature `wayfound-http`, with an API key).
    send(&session, &transcript)?;
    Ok(())
}

#[cfg(feature = "wayfound-http")]
fn send(
    session: &WayfoundSession,
    transcript: &Transcript,
) -> Result<(), Box<dyn std::error::Error>> {
    let Ok(api_key) = std::env::var("WAYFOUND_API_KEY") else {
        println!("\nSet WAYFOUND_API_KEY and WAYFOUND_AGENT_ID to send the session.");
        return Ok(());
    };
    let client = event_center::WayfoundClient::new(api_key);
    let answer = client.send_transcript(session, transcript, &SizeBudget::default())?;
    match answer.grade() {
        Some(grade) => println!("\nSession {} graded {}", answer.id(), grade.grade),
        None if answer.is_pending() => {
            println!("\nSession {}: analysis still running", answer.id())
        }
        None => println!("\nSession {} recorded", answer.id()),
    }
    Ok(())
}

#[cfg(not(feature = "wayfound-http"))]
fn send(_: &WayfoundSession, _: &Transcript) -> Result<(), Box<dyn std::error::Error>> {
    println!("\nBuild with --features wayfound-http to send the session.");
    Ok(())
}
