//! Flow definitions live in the store's SQLite file (Agently DevTools keeps
//! them in memory only): a server started again on the same data directory
//! resolves the registered and the event-declared definitions unchanged,
//! and retention, which deletes old events, never deletes a definition.

use crate::support::observation_server::{agent, answer, start_on};
use event_center::Retention;
use serde_json::{json, Value};

fn resolve(url: &str, query: &str) -> (u16, Value) {
    answer(
        agent()
            .get(&format!("{url}/observation/flows/resolve?{query}"))
            .call(),
    )
}

fn post(url: &str, path: &str, body: Value) -> Value {
    let (status, reply) = answer(
        agent()
            .post(&format!("{url}{path}"))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string()),
    );
    assert_eq!(status, 200, "{reply}");
    reply
}

#[test]
fn flow_definitions_survive_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_on(dir.path(), |b| b);
    let registered = post(
        &first.url(),
        "/observation/flows/register",
        json!({"app_id": "a", "group_id": "g", "flow_name": "kept",
               "definition": {"steps": [1, 2]}, "mermaid": {"main": "graph TD; a-->b"}}),
    );
    post(
        &first.url(),
        "/observation/ingest",
        json!({"events": [{"event_type": "triggerflow.definition_declared",
                           "payload": {"flow_name": "declared", "definition": {"x": true}}}]}),
    );
    let declared = resolve(&first.url(), "flow_name=declared");
    assert_eq!(declared.0, 200, "{}", declared.1);
    first.shutdown();

    let second = start_on(dir.path(), |b| b.with_retention(Retention::events(1)));
    assert_eq!(
        resolve(&second.url(), "flow_name=kept&app_id=a&group_id=g"),
        (200, registered)
    );
    assert_eq!(resolve(&second.url(), "flow_name=declared"), declared);

    // Retention deletes the declaring event, not the definition.
    post(
        &second.url(),
        "/observation/ingest",
        json!({"events": [{"event_type": "a.b"}, {"event_type": "c.d"}]}),
    );
    let (_, recent) = answer(
        agent()
            .get(&format!("{}/observation/events/recent", second.url()))
            .call(),
    );
    assert_eq!(recent["data"].as_array().map(Vec::len), Some(1), "{recent}");
    assert_eq!(resolve(&second.url(), "flow_name=declared"), declared);
}
