//! Deep and wide events against the compact view and the viewer: an event
//! nested deeper than JSON readers take back is refused at ingest (the rest
//! of its batch stored); an accepted event deep or wide in any part (meta,
//! run and its meta, error, message, unknown top-level fields) comes back
//! from `/events/recent` and `/runs/{id}/events` within the compact view's
//! bounds; and the viewer shows any event, cutting what is too deep to show
//! with a visible marker, never keeping the previous event on screen.

use serde_json::{json, Value};

use super::browser::{self, Viewer};
use super::server::TestServer;

/// `levels` arrays around `1`, as JSON text.
fn nested(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

/// The deepest nesting of objects and arrays in a JSON text (counted
/// without recursion, whatever the depth).
fn depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The widest object or list and the longest string in a value.
fn widest(value: &Value) -> (usize, usize) {
    let mut stack = vec![value];
    let (mut wide, mut long) = (0, 0);
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => {
                wide = wide.max(items.len());
                stack.extend(items);
            }
            Value::Object(map) => {
                wide = wide.max(map.len());
                stack.extend(map.values());
            }
            Value::String(text) => long = long.max(text.chars().count()),
            _ => {}
        }
    }
    (wide, long)
}

/// An event deep (120 levels) and wide in every part but the payload.
fn deep_and_wide(id: &str, run_id: &str) -> String {
    let wide_object: String = (0..5_000)
        .map(|i| format!("\"k{i}\":{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let wide_list: String = (0..10_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let extras: String = (0..300).map(|i| format!(",\"extra{i}\":{i}")).collect();
    format!(
        "{{\"event_id\":\"{id}\",\"event_type\":\"deep.wide\",\"message\":\"{long}\",\
         \"payload\":{{\"small\":1}},\
         \"meta\":{{\"deep\":{deep},\"wide\":{{{wide_object}}}}},\
         \"run\":{{\"run_id\":\"{run_id}\",\"run_kind\":\"agent_execution\",\"meta\":{{\"deep\":{deep}}},\"odd\":{deep}}},\
         \"error\":{{\"type\":\"E\",\"message\":\"m\",\"details\":{{\"deep\":{deep},\"list\":[{wide_list}]}}}},\
         \"x_deep\":{deep},\"x_wide\":[{wide_list}]{extras}}}",
        long = "m".repeat(10_000),
        deep = nested(120),
    )
}

#[test]
fn an_event_nested_deeper_than_json_readers_take_back_is_refused_and_the_rest_stored() {
    let server = TestServer::start();
    let too_deep = format!(
        "{{\"event_id\":\"too-deep\",\"event_type\":\"a\",\"meta\":{{\"m\":{}}}}}",
        nested(100_000)
    );
    let body = format!(
        "{{\"events\":[{{\"event_id\":\"before\",\"event_type\":\"a\"}},{too_deep},{{\"event_id\":\"after\",\"event_type\":\"a\"}}]}}"
    );
    let (status, answer) = server.post_text("/observation/ingest", &body);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["data"]["ingested"], 2);
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "events", 1, "meta"])
    );
    assert_eq!(answer["detail"][0]["type"], "too_deep");
    let (status, _) = server.get("/observation/events/too-deep/raw");
    assert_eq!(status, 404);
    server.data("/observation/events/after/raw");
}

#[test]
fn every_part_of_a_deep_and_wide_event_comes_back_compacted() {
    let server = TestServer::start();
    let body = format!("{{\"events\":[{}]}}", deep_and_wide("dw-1", "dw-run"));
    let (status, answer) = server.post_text("/observation/ingest", &body);
    assert_eq!(status, 200, "{answer}");

    for path in [
        "/observation/events/recent",
        "/observation/runs/dw-run/events",
    ] {
        let (status, text) = {
            let response = super::server::agent()
                .get(&format!("{}{path}", server.url()))
                .call()
                .expect("GET");
            (response.status(), response.into_string().expect("a body"))
        };
        assert_eq!(status, 200);
        // Envelope, list, event, then at most 9 levels of a part and a marker.
        assert!(
            depth(&text) <= 2 + 1 + 9 + 1,
            "{path}: {} levels",
            depth(&text)
        );
        let answer: Value = serde_json::from_str(&text).expect("a JSON reader takes it");
        let event = &answer["data"][0];
        assert_eq!(event["event_id"], "dw-1", "{path}");
        assert_eq!(event["devtools_view"]["payload_compacted"], true);
        let (wide, long) = widest(event);
        assert!(wide <= 80 + 16, "{path}: {wide} items in one place");
        assert!(long <= 4_200, "{path}: a string of {long} characters");
        assert_eq!(event["run"]["run_id"], "dw-run");
        assert_eq!(event["payload"], json!({"small": 1}));
        assert!(event["meta"]["wide"]["__devtools_compacted_keys"].as_u64() > Some(4_000));
        assert_eq!(
            event["x_wide"][40]["__devtools_compacted_items"],
            10_000 - 40
        );
        assert!(event["__devtools_compacted_keys"].as_u64() > Some(200));
    }
    // The raw event keeps everything.
    let raw = server.data("/observation/events/dw-1/raw?payload_mode=raw");
    assert_eq!(raw["extra299"], 299);
    assert_eq!(raw["meta"]["wide"]["k4999"], 4999);
}

/// Stores a row as a server before depth limits did: a 100,000-deep meta
/// (marked for the compact view, as ingest marks such events now).
fn store_legacy_event(dir: &std::path::Path, event_id: &str, timestamp: i64) {
    let json = format!(
        "{{\"event_id\":\"{event_id}\",\"event_type\":\"legacy.deep\",\"source\":\"Old\",\
         \"level\":\"INFO\",\"message\":null,\"payload\":null,\"error\":null,\"run\":null,\
         \"meta\":{{\"app_id\":\"default\",\"deep\":{}}},\"timestamp\":{timestamp}}}",
        nested(100_000)
    );
    let conn =
        rusqlite::Connection::open(dir.join("observations.sqlite3")).expect("open the store");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute(
        "INSERT INTO events (event_id, event_type, source, level, app_id, timestamp, compact, bytes, json) \
         VALUES (?1, 'legacy.deep', 'Old', 'INFO', 'default', ?2, 1, ?3, ?4)",
        rusqlite::params![event_id, timestamp, json.len() as i64, json],
    )
    .expect("insert the legacy event");
}

#[test]
fn the_viewer_shows_a_deep_or_wide_event_and_never_keeps_the_previous_one() {
    let viewer = Viewer::start(None);
    let now = browser::now_ms();
    store_legacy_event(viewer.data_dir(), "legacy-deep", now - 1_000);
    viewer.open_page(&viewer.server_url());
    viewer.wait_for_connection("live");
    let plain = browser::event(
        "plain-1",
        "model.completed",
        browser::run("viewer-run", None),
    );
    let wide: Value = serde_json::from_str(&deep_and_wide("dw-2", "viewer-dw")).unwrap();
    let mut deepest: Value = browser::event("deep-127", "deep.max", Value::Null);
    // The deepest an event may be: 127 levels, the event counted.
    deepest["payload"] = serde_json::from_str(&nested(126)).expect("126 levels read back");
    viewer.post(json!([plain]));
    let batch = format!(
        "{{\"app_id\":\"viewer-test\",\"events\":[{wide},{}]}}",
        serde_json::to_string(&deepest).unwrap()
    );
    viewer.post_text(&batch);
    viewer.wait_for(
        "four events listed",
        "return document.querySelectorAll('#event-list [data-event-id]').length",
        |n| *n == json!(4),
    );
    let detail = "return document.querySelector('#event-detail').textContent";
    for id in ["legacy-deep", "dw-2", "deep-127"] {
        viewer.click("#event-list [data-event-id=\"plain-1\"]");
        viewer.wait_for("the detail pane shows plain-1", detail, |text| {
            text.as_str().is_some_and(|t| t.contains("\"plain-1\""))
        });
        viewer.click(&format!("#event-list [data-event-id=\"{id}\"]"));
        let shown = viewer.wait_for(&format!("the detail pane shows {id}"), detail, |text| {
            text.as_str()
                .is_some_and(|t| t.contains(&format!("\"{id}\"")))
        });
        let shown = shown.as_str().unwrap();
        assert!(
            !shown.contains("\"plain-1\""),
            "{id}: the previous event is still shown"
        );
        if id != "dw-2" {
            // Raw (fetched in full) or not, the depth is cut where it shows.
            viewer.wait_for(
                &format!("{id}: a marker where the depth is cut"),
                detail,
                |text| {
                    text.as_str()
                        .is_some_and(|t| t.contains("nested deeper than 64 levels"))
                },
            );
        }
    }
    // The wide event's raw JSON is shown in full once fetched.
    viewer.click("#event-list [data-event-id=\"dw-2\"]");
    viewer.wait_for("dw-2 in full", detail, |text| {
        text.as_str().is_some_and(|t| t.contains("\"k4999\": 4999"))
    });
}
