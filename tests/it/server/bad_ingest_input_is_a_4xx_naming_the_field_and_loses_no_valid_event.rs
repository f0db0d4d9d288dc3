//! Bad ingest input is refused with a 4xx whose JSON body names the field
//! (FastAPI's `{"detail": [{"type", "loc", "msg"}]}`), never a 500: invalid
//! JSON, a body that is not an object, `events` that is not a list, a body
//! over the limit (413). In a batch with invalid events, every invalid one
//! is named by index and field and every valid one is stored.

use crate::support::observation_server::{ids, TestServer};
use serde_json::{json, Value};

fn locs(body: &Value) -> Vec<Value> {
    body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("no detail list in {body}"))
        .iter()
        .map(|d| d["loc"].clone())
        .collect()
}

#[test]
fn bad_ingest_input_is_a_4xx_naming_the_field_and_loses_no_valid_event() {
    let server = TestServer::with(|builder| builder.with_body_limit(64 * 1024));

    let (status, body) = server.post_text("/observation/ingest", "{\"events\": [");
    assert_eq!(status, 422);
    assert_eq!(locs(&body), [json!(["body"])]);
    assert_eq!(body["detail"][0]["type"], "json_invalid");

    let (status, body) = server.post_text("/observation/ingest", "[1, 2]");
    assert_eq!((status, locs(&body)), (422, vec![json!(["body"])]));

    let (status, body) = server.post(&json!({"events": {"event_type": "x"}}));
    assert_eq!(
        (status, locs(&body)),
        (422, vec![json!(["body", "events"])])
    );

    let (status, body) = server.post(&json!({"app_id": 7, "events": []}));
    assert_eq!(
        (status, locs(&body)),
        (422, vec![json!(["body", "app_id"])])
    );

    let (status, body) = server.post(&json!({"events": [
        {"event_type": "ok.first", "event_id": "good-1"},
        {"source": "no type"},
        {"event_type": 5},
        {"event_type": "x", "level": "LOUD"},
        {"event_type": "x", "timestamp": "soon"},
        {"event_type": "x", "run": {"run_kind": "agent"}},
        {"event_type": "x", "meta": ["not", "an", "object"]},
        {"event_type": "x", "error": {"message": "no type"}},
        "not an event",
        {"event_type": "ok.last", "event_id": "good-2", "level": "warning"},
    ]}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        locs(&body),
        [
            json!(["body", "events", 1, "event_type"]),
            json!(["body", "events", 2, "event_type"]),
            json!(["body", "events", 3, "level"]),
            json!(["body", "events", 4, "timestamp"]),
            json!(["body", "events", 5, "run", "run_id"]),
            json!(["body", "events", 6, "meta"]),
            json!(["body", "events", 7, "error", "type"]),
            json!(["body", "events", 8]),
        ]
    );
    assert!(body["detail"][1]["msg"]
        .as_str()
        .unwrap()
        .contains("event_type"));
    assert_eq!(body["data"]["ingested"], 2, "the valid events are stored");
    let stored = server.data("/observation/events/recent");
    let mut stored_ids = ids(&stored);
    stored_ids.sort();
    assert_eq!(stored_ids, ["good-1", "good-2"]);
    assert_eq!(
        server.data("/observation/events/good-2/raw")["level"],
        "WARNING"
    );

    // Over the body limit: 413, and nothing of it stored.
    let big = json!({"events": [{"event_type": "big", "payload": "x".repeat(4 << 20)}]});
    let (status, body) = server.post(&big);
    assert_eq!(status, 413);
    assert_eq!(locs(&body), [json!(["body"])]);
    assert!(body["detail"][0]["msg"].as_str().unwrap().contains("65536"));
    assert_eq!(
        server
            .data("/observation/events/recent")
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Bad query values are 422s naming the parameter, too.
    let (status, body) = server.get("/observation/runs?limit=ten&status=done&app_id_pattern=(");
    assert_eq!(status, 422);
    let mut named = locs(&body);
    named.sort_by_key(|l| l.to_string());
    assert_eq!(
        named,
        [
            json!(["query", "app_id_pattern"]),
            json!(["query", "limit"]),
            json!(["query", "status"]),
        ]
    );
}
