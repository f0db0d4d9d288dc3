//! A capture scope that panics still hands back the events emitted before
//! the panic (`capture_unwind`, or `capture_sync` with the panic caught
//! inside), and the next scope on that thread starts empty, including after
//! a plain `capture` whose panic propagated.

use std::panic::{catch_unwind, AssertUnwindSafe};

use event_center::EventCenter;

fn types(events: &[std::sync::Arc<event_center::Event>]) -> Vec<String> {
    events.iter().map(|e| e.event_type.to_string()).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_capture_returns_its_events_and_leaves_nothing_behind() {
    let center = EventCenter::new();
    let emitter = center.emitter("Tool");
    let thread = std::thread::current().id();

    let captured = center
        .capture_unwind(async {
            emitter.emit("step.one").send();
            tokio::task::yield_now().await;
            emitter.emit("step.two").send_async().await;
            if emitter.source() == "Tool" {
                panic!("tool crashed");
            }
            emitter.emit("step.never").send();
        })
        .await;
    let payload = captured.output.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"tool crashed"));
    assert_eq!(types(&captured.events), ["step.one", "step.two"]);

    let next = center
        .capture(async { emitter.emit("next.only").send() })
        .await;
    assert_eq!(types(&next.events), ["next.only"]);

    // A plain capture's panic propagates (here into the task's JoinError).
    let e = emitter.clone();
    let c = center.clone();
    let crashed = tokio::spawn(c.capture(async move {
        e.emit("lost.event").send();
        panic!("propagated");
    }));
    assert!(crashed.await.unwrap_err().is_panic());
    emitter.emit("between.scopes").send();
    let after = center
        .capture(async { emitter.emit("after.panic").send() })
        .await;
    assert_eq!(types(&after.events), ["after.panic"]);

    // The closure form, on the same thread.
    let sync = center.capture_sync(|| {
        catch_unwind(AssertUnwindSafe(|| {
            emitter.emit("sync.step").send();
            panic!("sync tool crashed");
        }))
    });
    assert!(sync.output.is_err());
    assert_eq!(types(&sync.events), ["sync.step"]);
    let propagated = catch_unwind(AssertUnwindSafe(|| {
        center.capture_sync(|| {
            emitter.emit("sync.lost").send();
            panic!("propagated");
        })
    }));
    assert!(propagated.is_err());
    let last = center.capture_sync(|| emitter.emit("sync.after").send());
    assert_eq!(types(&last.events), ["sync.after"]);

    assert_eq!(std::thread::current().id(), thread, "all on one thread");
}
