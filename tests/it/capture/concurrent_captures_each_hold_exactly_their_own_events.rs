//! Sixteen executions run at once on a four-worker runtime, each emitting,
//! then waiting at a shared barrier (so every execution is in flight at the
//! same time and tasks move between workers), then emitting again: each
//! capture holds exactly its own events, in emission order, whichever emit
//! path was used and whether or not a hook listens. Captures joined inside
//! one task stay apart too.

use std::sync::Arc;

use event_center::{Event, EventCenter};
use serde_json::json;
use tokio::sync::Barrier;

const EXECUTIONS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_captures_each_hold_exactly_their_own_events() {
    let center = EventCenter::new();
    // One of the types is listened to, the others are not.
    center
        .register_hook("audit", "tool.progress", |_: &Event| {})
        .unwrap();
    let barrier = Arc::new(Barrier::new(EXECUTIONS));

    let executions: Vec<_> = (0..EXECUTIONS)
        .map(|i| {
            let center = center.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let emitter = center.emitter(format!("tool-{i}"));
                let execution = async {
                    emitter
                        .emit("tool.started")
                        .payload(json!({"execution": i}))
                        .send();
                    barrier.wait().await;
                    emitter
                        .emit("tool.progress")
                        .payload(json!({"execution": i}))
                        .send();
                    tokio::task::yield_now().await;
                    emitter
                        .emit("tool.finished")
                        .payload(json!({"execution": i}))
                        .send_async()
                        .await;
                    i
                };
                center.capture(execution).await
            })
        })
        .collect();

    for (i, execution) in executions.into_iter().enumerate() {
        let captured = execution.await.unwrap();
        assert_eq!(captured.output, i);
        let seen: Vec<_> = captured
            .events
            .iter()
            .map(|e| (e.event_type.as_str(), e.payload["execution"].as_u64()))
            .collect();
        let i = i as u64;
        assert_eq!(
            seen,
            [
                ("tool.started", Some(i)),
                ("tool.progress", Some(i)),
                ("tool.finished", Some(i)),
            ],
            "execution {i} holds exactly its own events"
        );
        assert!(captured.events.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(captured
            .events
            .iter()
            .all(|e| e.source.as_str() == format!("tool-{i}")));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn captures_joined_in_one_task_stay_apart() {
    let center = EventCenter::new();
    let emitter = center.emitter("Tool");
    let execution = |name: &'static str| {
        let emitter = emitter.clone();
        async move {
            for step in 0..3 {
                emitter
                    .emit("tool.step")
                    .payload(json!({"execution": name, "step": step}))
                    .send();
                tokio::task::yield_now().await;
            }
        }
    };
    let (a, b) = tokio::join!(
        center.capture(execution("a")),
        center.capture(execution("b"))
    );
    for (captured, name) in [(a, "a"), (b, "b")] {
        let seen: Vec<_> = captured
            .events
            .iter()
            .map(|e| (e.payload["execution"].as_str(), e.payload["step"].as_u64()))
            .collect();
        assert_eq!(
            seen,
            [
                (Some(name), Some(0)),
                (Some(name), Some(1)),
                (Some(name), Some(2))
            ]
        );
    }
}
