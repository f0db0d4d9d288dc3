//! The API key goes as `Authorization: Bearer <key>`: a real DevTools server
//! started with `--api-key` takes the forwarder's events with the right key,
//! and answers 401 to a wrong one (the forwarder keeps those events and
//! says why in its last error, until a shutdown drops and reports them).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{DevtoolsForwarder, Event, EventCenter, RunContext};
use event_center_test_support::devtools_server::DevtoolsServer;
use event_center_test_support::ports::free_port;
use serde_json::Value;

#[test]
fn a_devtools_api_key_is_sent_as_bearer() {
    let server = DevtoolsServer::start_on(free_port(), Some("s3cret-key"));
    let run = RunContext::new("agent_execution");

    let wrong_center = EventCenter::new();
    let drops = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen = drops.clone();
    wrong_center
        .register_hook("drops", "event_center.events_dropped", move |e: &Event| {
            seen.lock().unwrap().push(e.payload.clone());
        })
        .unwrap();
    let wrong = DevtoolsForwarder::builder(server.url())
        .with_api_key("not-the-key")
        .register(&wrong_center, "devtools")
        .unwrap();
    wrong_center
        .emitter("Agent")
        .with_run(run.clone())
        .emit("agent_execution.started")
        .send();
    wrong.flush(Duration::from_secs(2));
    let stats = wrong.stats();
    assert_eq!(
        (stats.accepted, stats.sent, stats.pending),
        (1, 0, 1),
        "{stats:?}"
    );
    let error = stats.last_error.unwrap();
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(error.contains("Invalid API key"), "{error}");
    // Shut down at once, the forwarder drops the event it kept, and reports
    // the drop through the center.
    let report = wrong.shutdown(Duration::ZERO);
    assert_eq!((report.accepted, report.delivered), (1, 1), "{report:?}");
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0]["total"]["shutdown"], 1, "{drops:?}");

    let center = EventCenter::new();
    let right = DevtoolsForwarder::builder(server.url())
        .with_api_key("s3cret-key")
        .register(&center, "devtools")
        .unwrap();
    let emitter = center.emitter("Agent").with_run(run.clone());
    emitter.emit("agent_execution.started").send();
    emitter.emit("agent_execution.completed").send();
    right.flush(Duration::from_secs(30));
    let stats = right.stats();
    assert_eq!((stats.sent, stats.pending), (2, 0), "{stats:?}");
    assert!(stats.last_error.is_none(), "{stats:?}");

    // Only the right key's events are there (the server asks for the key too).
    let events = server.run_events(&run.run_id);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event_type"] == "agent_execution.started")
            .count(),
        1
    );
}
