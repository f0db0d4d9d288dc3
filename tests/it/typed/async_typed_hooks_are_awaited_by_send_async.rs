//! A typed hook registered with `on_async` is awaited by `send_async` with
//! the decoded value, runs on its worker for `send`, and a payload that does
//! not decode is counted and reported like for a synchronous typed hook.

use std::any::type_name;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_center::{Event, EventCenter, TypedEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct CallEnded {
    call_id: String,
    seconds: u32,
}

impl TypedEvent for CallEnded {
    const EVENT_TYPE: &'static str = "voice.call.ended";
}

#[tokio::test]
async fn awaited_with_the_value_and_failures_reported() {
    let center = EventCenter::new();
    let seen: Arc<Mutex<Vec<(String, CallEnded)>>> = Arc::default();
    let sink = seen.clone();
    center
        .on_async("billing", move |event: Arc<Event>, call: CallEnded| {
            let sink = sink.clone();
            async move {
                tokio::task::yield_now().await;
                sink.lock().unwrap().push((event.source.to_string(), call));
            }
        })
        .unwrap();
    let reports: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = reports.clone();
    center
        .register_hook("failures", "event_center.hook_failed", move |e: &Event| {
            sink.lock()
                .unwrap()
                .push(e.error.as_ref().unwrap().message.clone())
        })
        .unwrap();

    let emitter = center.emitter("Voice");
    let call = CallEnded {
        call_id: "c-1".into(),
        seconds: 95,
    };
    emitter.emit_typed(&call).send_async().await;
    // Awaited: the value is there as soon as send_async returns.
    assert_eq!(*seen.lock().unwrap(), [("Voice".to_owned(), call)]);

    // `send` hands it to the hook's worker.
    emitter
        .emit_typed(&CallEnded {
            call_id: "c-2".into(),
            seconds: 3,
        })
        .send();
    let report = center.flush_async(Duration::from_secs(5)).await;
    assert!(report.is_complete());
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap()[1].1.call_id, "c-2");

    // A payload that does not decode.
    center
        .emit_json_async(json!({"event_type": "voice.call.ended", "payload": {"call_id": "c-3"}}))
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
    let billing = &center.stats().hooks[0];
    assert_eq!((billing.delivered, billing.failed), (2, 1));
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].contains(type_name::<CallEnded>()),
        "{}",
        reports[0]
    );
    assert!(
        reports[0].contains("missing field `seconds`"),
        "{}",
        reports[0]
    );
}
