//! The API key goes as `Authorization: Bearer <key>`: a real DevTools server
//! started with `--api-key` takes the forwarder's events with the right key,
//! and answers 401 to a wrong one (the forwarder keeps those events and
//! says why in its last error).

use std::time::Duration;

use event_center::{DevtoolsForwarder, EventCenter, RunContext};
use event_center_test_support::devtools_server::DevtoolsServer;
use event_center_test_support::ports::free_port;

#[test]
fn a_devtools_api_key_is_sent_as_bearer() {
    let server = DevtoolsServer::start_on(free_port(), Some("s3cret-key"));
    let run = RunContext::new("agent_execution");

    let wrong_center = EventCenter::new();
    let wrong = DevtoolsForwarder::builder(server.url())
        .with_api_key("not-the-key")
        .build()
        .unwrap()
        .register(&wrong_center, "devtools")
        .unwrap();
    wrong_center
        .emitter("Agent")
        .with_run(run.clone())
        .emit("agent_execution.started")
        .send();
    let stats = wrong.flush(Duration::from_secs(2));
    assert_eq!(
        (stats.accepted, stats.sent, stats.pending),
        (1, 0, 1),
        "{stats:?}"
    );
    let error = stats.last_error.unwrap();
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(error.contains("Invalid API key"), "{error}");
    assert_eq!(wrong.shutdown(Duration::ZERO).dropped.shutdown, 1);

    let center = EventCenter::new();
    let right = DevtoolsForwarder::builder(server.url())
        .with_api_key("s3cret-key")
        .build()
        .unwrap()
        .register(&center, "devtools")
        .unwrap();
    let emitter = center.emitter("Agent").with_run(run.clone());
    emitter.emit("agent_execution.started").send();
    emitter.emit("agent_execution.completed").send();
    let stats = right.flush(Duration::from_secs(30));
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
