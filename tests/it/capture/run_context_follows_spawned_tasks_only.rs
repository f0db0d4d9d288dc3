//! Run lineage: children inherit the root, ids and meta; a run made current
//! for a scope is stamped by emitters without a run of their own, follows
//! tasks spawned through the crate's helpers, and never leaks out of the
//! scope or into unrelated tasks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Event, EventCenter, Patterns, RunContext};

type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Records (event type, run id) of everything the center delivers.
fn record(center: &EventCenter) -> Seen {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("runs", Patterns::All, move |e: &Event| {
            sink.lock().unwrap().push((
                e.event_type.to_string(),
                e.run.as_ref().map(|r| r.run_id.clone()),
            ));
        })
        .unwrap();
    seen
}

fn taken(seen: &Seen) -> Vec<(String, Option<String>)> {
    std::mem::take(&mut *seen.lock().unwrap())
}

fn pair(event_type: &str, run: Option<&RunContext>) -> (String, Option<String>) {
    (event_type.to_owned(), run.map(|r| r.run_id.clone()))
}

#[test]
fn children_inherit_root_ids_and_meta() {
    let root = RunContext::new("agent_execution")
        .with_agent_id("agent-7")
        .with_agent_name("planner")
        .with_session_id("s-1")
        .with_response_id("r-1")
        .with_execution_id("x-1")
        .with_meta("tenant", "demo")
        .with_meta("shared", "root");
    assert_eq!(root.run_id.len(), 32);
    assert!(root.run_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(root.root_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(root.root_id(), root.run_id);
    assert_eq!(root.parent_run_id, None);

    let child = root.child("model_request").with_meta("shared", "child");
    assert_ne!(child.run_id, root.run_id);
    assert_eq!(child.run_kind, "model_request");
    assert_eq!(child.parent_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(child.root_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(child.agent_id.as_deref(), Some("agent-7"));
    assert_eq!(child.agent_name.as_deref(), Some("planner"));
    assert_eq!(child.session_id.as_deref(), Some("s-1"));
    assert_eq!(child.response_id.as_deref(), Some("r-1"));
    assert_eq!(child.execution_id.as_deref(), Some("x-1"));
    assert_eq!(child.meta["tenant"], "demo");
    assert_eq!(child.meta["shared"], "child", "the child's own meta wins");
    assert_eq!(root.meta["shared"], "root", "the parent is untouched");

    let grandchild = child.child("action");
    assert_eq!(
        grandchild.parent_run_id.as_deref(),
        Some(child.run_id.as_str())
    );
    assert_eq!(
        grandchild.root_run_id.as_deref(),
        Some(root.run_id.as_str())
    );
    assert_eq!(grandchild.root_id(), root.run_id);
    assert_eq!(grandchild.session_id.as_deref(), Some("s-1"));
    assert_eq!(grandchild.meta["shared"], "child");

    // Lineage survives the wire.
    let wire = serde_json::to_value(&grandchild).unwrap();
    assert_eq!(wire["root_run_id"], root.run_id.as_str());
    assert_eq!(wire["parent_run_id"], child.run_id.as_str());
    let back: RunContext = serde_json::from_value(wire).unwrap();
    assert_eq!(back, grandchild);
}

#[test]
fn in_scope_stamps_the_current_run_and_ends_with_the_closure() {
    let center = EventCenter::new();
    let seen = record(&center);
    let emitter = center.emitter("Agent");
    let run = RunContext::new("agent_execution");

    emitter.emit("before").send();
    let (other, child) = run.clone().in_scope(|| {
        emitter.emit("inside").send();
        // An explicit run on the event wins over the current one.
        let other = RunContext::new("other");
        emitter.emit("explicit").run(other.clone()).send();
        assert_eq!(RunContext::current().unwrap().run_id, run.run_id);
        // Nested scopes: the inner run is current inside, the outer after.
        let child = run.child("model_request");
        child.clone().in_scope(|| emitter.emit("nested").send());
        emitter.emit("after_nested").send();
        (other, child)
    });
    emitter.emit("after").send();
    assert!(RunContext::current().is_none());

    let got = taken(&seen);
    let types: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "before",
            "inside",
            "explicit",
            "nested",
            "after_nested",
            "after"
        ]
    );
    assert_eq!(got[0], pair("before", None));
    assert_eq!(got[1], pair("inside", Some(&run)));
    assert_eq!(got[2], pair("explicit", Some(&other)));
    assert_eq!(got[3], pair("nested", Some(&child)));
    assert_eq!(got[4], pair("after_nested", Some(&run)));
    assert_eq!(got[5], pair("after", None));
}

#[test]
fn an_emitter_with_its_own_run_ignores_the_current_one() {
    let center = EventCenter::new();
    let seen = record(&center);
    let own = RunContext::new("own");
    let emitter = center.emitter("Agent").with_run(own.clone());
    RunContext::new("current").in_scope(|| emitter.emit("x").send());
    assert_eq!(taken(&seen), [pair("x", Some(&own))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scope_follows_crate_spawns_but_not_plain_tokio_spawns() {
    let center = EventCenter::new();
    let seen = record(&center);
    let emitter = center.emitter("Agent");
    let run = RunContext::new("agent_execution");

    emitter.emit("before").send();
    run.clone()
        .scope(async {
            emitter.emit("inside").send();
            tokio::time::sleep(Duration::from_millis(1)).await;
            emitter.emit("inside_after_await").send_async().await;

            let e = emitter.clone();
            event_center::spawn(async move {
                tokio::task::yield_now().await;
                e.emit("crate_spawn").send();
                // Spawns from spawned tasks carry it too.
                let e2 = e.clone();
                event_center::spawn(async move { e2.emit("crate_spawn_nested").send() })
                    .await
                    .unwrap();
            })
            .await
            .unwrap();

            let e = emitter.clone();
            event_center::spawn_blocking(move || e.emit("crate_spawn_blocking").send())
                .await
                .unwrap();

            let e = emitter.clone();
            tokio::spawn(async move { e.emit("plain_spawn").send() })
                .await
                .unwrap();

            let e = emitter.clone();
            tokio::task::spawn_blocking(move || e.emit("plain_spawn_blocking").send())
                .await
                .unwrap();

            let e = emitter.clone();
            std::thread::spawn(move || e.emit("plain_thread").send())
                .join()
                .unwrap();
        })
        .await;
    emitter.emit("after").send();
    emitter.emit("after_async").send_async().await;
    assert!(RunContext::current().is_none());

    assert_eq!(
        taken(&seen),
        [
            pair("before", None),
            pair("inside", Some(&run)),
            pair("inside_after_await", Some(&run)),
            pair("crate_spawn", Some(&run)),
            pair("crate_spawn_nested", Some(&run)),
            pair("crate_spawn_blocking", Some(&run)),
            pair("plain_spawn", None),
            pair("plain_spawn_blocking", None),
            pair("plain_thread", None),
            pair("after", None),
            pair("after_async", None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_scopes_each_see_only_their_own_run() {
    const TASKS: usize = 8;
    const EVENTS: usize = 50;
    let center = EventCenter::new();
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    center
        .register_hook("runs", "task.*", move |e: &Event| {
            sink.lock().unwrap().push((
                e.payload["task"].as_str().unwrap().to_owned(),
                e.run.as_ref().map(|r| r.run_id.clone()),
            ));
        })
        .unwrap();

    let runs: Vec<RunContext> = (0..TASKS)
        .map(|i| RunContext::new("agent_execution").with_meta("task", i))
        .collect();
    let mut handles = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let emitter = center.emitter("Agent");
        let run = run.clone();
        handles.push(tokio::spawn(run.scope(async move {
            for n in 0..EVENTS {
                emitter
                    .emit("task.step")
                    .payload(serde_json::json!({"task": format!("t{i}")}))
                    .send();
                if n % 5 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                } else {
                    tokio::task::yield_now().await;
                }
                // A child task spawned with the crate helper stays in the run.
                if n % 10 == 0 {
                    let e = emitter.clone();
                    event_center::spawn(async move {
                        e.emit("task.child")
                            .payload(serde_json::json!({"task": format!("t{i}")}))
                            .send();
                    })
                    .await
                    .unwrap();
                }
            }
        })));
    }
    for h in handles {
        h.await.unwrap();
    }

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), TASKS * (EVENTS + EVENTS / 10));
    for (task, run_id) in seen.iter() {
        let i: usize = task[1..].parse().unwrap();
        assert_eq!(
            run_id.as_deref(),
            Some(runs[i].run_id.as_str()),
            "task {task} saw another run"
        );
    }
    for (i, run) in runs.iter().enumerate() {
        let count = seen
            .iter()
            .filter(|(_, r)| r.as_deref() == Some(run.run_id.as_str()))
            .count();
        assert_eq!(count, EVENTS + EVENTS / 10, "run of task {i}");
    }
}
