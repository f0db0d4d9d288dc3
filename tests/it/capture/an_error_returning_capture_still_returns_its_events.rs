//! A capture scope that returns an error is an ordinary output: the
//! `Result` comes back with the events emitted before the error, including
//! those of a `?` that cut the execution short.

use event_center::EventCenter;

#[derive(Debug, PartialEq)]
struct LookupFailed(&'static str);

#[tokio::test(flavor = "current_thread")]
async fn an_error_returning_capture_still_returns_its_events() {
    let center = EventCenter::new();
    let emitter = center.emitter("Tool");

    let lookup = |id: &'static str| -> Result<u32, LookupFailed> {
        if id == "missing" {
            Err(LookupFailed(id))
        } else {
            Ok(7)
        }
    };

    let captured = center
        .capture(async {
            emitter.emit("lookup.started").send();
            let found = lookup("order-1")?;
            emitter.emit("lookup.found").payload(found).send();
            lookup("missing")?;
            emitter.emit("lookup.never").send();
            Ok::<_, LookupFailed>(found)
        })
        .await;

    assert_eq!(captured.output, Err(LookupFailed("missing")));
    let types: Vec<_> = captured
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(types, ["lookup.started", "lookup.found"]);
    assert_eq!(captured.events[1].payload, 7);
}
