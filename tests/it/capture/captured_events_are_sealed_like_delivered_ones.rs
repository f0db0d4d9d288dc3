//! An event collected by a capture with no hook listening is sealed as the
//! center seals every event: it gets its `seq`, the size limit and the
//! redaction, and a capture never sees a secret a hook would not see.

use event_center::{EventCenter, SizeLimit};
use serde_json::json;

#[test]
fn captured_events_are_sealed_like_delivered_ones() {
    let center = EventCenter::builder()
        .with_size_limit(SizeLimit::new(64))
        .build();
    let emitter = center.emitter("Tool");
    emitter.emit("before.capture").send();
    let before = center.stats().last_seq;

    let captured = center.capture_sync(|| {
        emitter
            .emit("http.called")
            .payload(json!({"api_key": "sk-live-1234567890", "body": "x".repeat(1000)}))
            .send();
        emitter.emit("http.done").send();
    });

    let [called, done] = &captured.events[..] else {
        panic!("two events expected, got {:?}", captured.events);
    };
    assert_eq!(called.payload["api_key"], "[REDACTED]");
    let body = called.payload["body"].as_str().unwrap();
    assert!(body.len() < 1000, "truncated: {} bytes", body.len());
    assert!(called.seq > before && done.seq > called.seq);
    assert_eq!(center.stats().last_seq, done.seq);
}
