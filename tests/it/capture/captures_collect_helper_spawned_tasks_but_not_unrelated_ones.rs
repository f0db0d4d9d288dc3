//! Events of tasks started inside a capture through the crate's helpers
//! (`event_center::spawn`, `event_center::spawn_blocking`, and their own
//! children) belong to it; events of a plain `tokio::spawn` task, of another
//! thread, or emitted before or after the scope never do.

use event_center::EventCenter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_collect_helper_spawned_tasks_but_not_unrelated_ones() {
    let center = EventCenter::new();
    let emitter = center.emitter("Tool");
    emitter.emit("outside.before").send();

    let captured = center
        .capture(async {
            emitter.emit("inside.own").send();

            let e = emitter.clone();
            event_center::spawn(async move { e.emit("inside.spawned").send() })
                .await
                .unwrap();

            let e = emitter.clone();
            event_center::spawn_blocking(move || e.emit("inside.blocking").send())
                .await
                .unwrap();

            let e = emitter.clone();
            event_center::spawn(async move {
                let e2 = e.clone();
                event_center::spawn(async move { e2.emit("inside.grandchild").send() })
                    .await
                    .unwrap();
            })
            .await
            .unwrap();

            let e = emitter.clone();
            tokio::spawn(async move { e.emit("unrelated.task").send() })
                .await
                .unwrap();

            let e = emitter.clone();
            tokio::task::spawn_blocking(move || e.emit("unrelated.blocking").send())
                .await
                .unwrap();

            let e = emitter.clone();
            std::thread::spawn(move || e.emit("unrelated.thread").send())
                .join()
                .unwrap();
        })
        .await;
    emitter.emit("outside.after").send();

    let types: Vec<_> = captured
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "inside.own",
            "inside.spawned",
            "inside.blocking",
            "inside.grandchild"
        ]
    );
}
