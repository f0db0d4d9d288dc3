//! `event-center tail PATTERN` prints one line per event posted to the
//! server after it connected, only for types the pattern matches, without
//! color when standard output is not a terminal.

use crate::support;

use serde_json::json;

#[test]
fn tail_prints_the_events_posted_after_it_started_filtered_by_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, url) = support::serve(dir.path(), &[]);
    let ingest = format!("{url}/observation/ingest");
    let post = |events: serde_json::Value| {
        let (status, body) = support::post(&ingest, None, &json!({ "events": events }));
        assert_eq!(status, 200, "{body}");
    };
    post(json!([{"event_type": "tool.before_tail"}]));

    let mut tail = support::Process::start(&["tail", "tool.*", "--url", &url]);
    tail.wait_stderr("saying it follows the stream", |l| {
        l.starts_with("tail: following ")
    });
    let run = json!({"run_id": "0123456789abcdef", "run_kind": "tool_execution"});
    post(json!([
        {"event_type": "tool.started", "source": "Booker", "run": run, "payload": {"name": "book_hotel"}},
        {"event_type": "model.completed", "source": "Booker", "payload": {"text": "no"}},
        {"event_type": "tool.failed", "source": "Booker", "level": "ERROR", "run": run,
         "error": {"type": "TimeoutError", "message": "no answer in 5 s"}},
    ]));
    let started = tail.wait_stdout("for tool.started", |l| l.contains("tool.started"));
    let failed = tail.wait_stdout("for tool.failed", |l| l.contains("tool.failed"));

    assert!(started.contains(" INFO "), "{started}");
    assert!(
        started.contains("Booker") && started.contains("89abcdef"),
        "{started}"
    );
    assert!(started.contains(r#"{"name":"book_hotel"}"#), "{started}");
    assert!(
        failed.contains(" ERROR ") && failed.contains("TimeoutError: no answer in 5 s"),
        "{failed}"
    );
    assert!(
        !failed.contains('\x1b'),
        "no color off a terminal: {failed:?}"
    );
    assert_eq!(
        tail.out.len(),
        2,
        "only the matching events after it started: {:?}",
        tail.out
    );
}
