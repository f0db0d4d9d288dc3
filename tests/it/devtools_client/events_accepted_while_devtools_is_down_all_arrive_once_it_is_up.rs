//! A DevTools server that is down at first and comes up later: the
//! forwarder keeps every accepted event through its retries, and once the
//! server answers, all of them arrive (read back through its query API).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_center::{DevtoolsBackoff, DevtoolsForwarder, Event, EventCenter, RunContext};
use event_center_test_support::devtools_server::DevtoolsServer;
use event_center_test_support::ports::free_port;
use serde_json::json;

#[test]
fn events_accepted_while_devtools_is_down_all_arrive_once_it_is_up() {
    event_center_test_support::devtools_server::ensure_installed();
    let port = free_port();
    let center = EventCenter::new();
    let emitted = Arc::new(Mutex::new(Vec::new()));
    let ids = emitted.clone();
    center
        .register_hook("ids", "*", move |event: &Event| {
            ids.lock().unwrap().push(event.event_id.to_string());
        })
        .unwrap();
    let devtools = DevtoolsForwarder::builder(format!("http://127.0.0.1:{port}"))
        .with_app_id("down-then-up")
        .with_batch(50, Duration::from_millis(10))
        .with_retry(DevtoolsBackoff::new(
            Duration::from_millis(20),
            Duration::from_millis(250),
        ))
        .register(&center, "devtools")
        .unwrap();

    let root = RunContext::new("agent_execution");
    let agent = center.emitter("Agent").with_run(root.clone());
    for step in 0..10 {
        let child = root.child("model_request");
        for i in 0..20 {
            agent
                .emit("model.requesting")
                .run(child.clone())
                .payload(json!({"step": step, "i": i}))
                .send();
        }
    }

    // Nobody listens yet: the sender retries and keeps everything.
    let waited = Instant::now();
    while devtools.stats().retries < 3 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no retries: {:?}",
            devtools.stats()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = devtools.stats();
    assert_eq!(
        (stats.accepted, stats.sent, stats.dropped.total()),
        (200, 0, 0),
        "{stats:?}"
    );
    assert_eq!(stats.pending, 200);
    assert!(
        stats.last_error.as_deref().unwrap().contains("no answer"),
        "{stats:?}"
    );

    let server = DevtoolsServer::start_on(port, None);
    devtools.flush(Duration::from_secs(60));
    let stats = devtools.stats();
    assert_eq!(
        (stats.sent, stats.pending, stats.dropped.total()),
        (200, 0, 0),
        "{stats:?}"
    );

    let emitted: BTreeSet<String> = emitted.lock().unwrap().iter().cloned().collect();
    let arrived: BTreeSet<String> = server
        .run_events(&root.run_id)
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emitted.len(), 200);
    assert_eq!(arrived, emitted);
    drop(devtools);
}
