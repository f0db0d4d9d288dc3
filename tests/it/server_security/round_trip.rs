//! Export then import must give back what ingest accepted: edge events
//! (nesting near the depth limit, `1e99999`, a 30-digit integer, `1e2`,
//! `seq` of `"abc"`, `-1` and `0`, keys out of order, `source: ""`, unicode
//! escapes, empty objects, unknown fields...) are posted over HTTP; every
//! accepted one is exported, imported into a fresh store and exported
//! again as the same JSON text, with the parts ingest keeps as written
//! (payload, meta, unknown fields) equal to what was posted. And import
//! refuses exactly what ingest refuses.

use std::path::Path;

use event_center::{ObservationStore, TextFault};

use super::server::{agent, answer, start_on};

/// The event fields ingest reads; any other key is kept as written.
const KNOWN: [&str; 10] = [
    "event_id",
    "event_type",
    "source",
    "level",
    "message",
    "payload",
    "error",
    "run",
    "meta",
    "timestamp",
];

/// An event as posted: its top-level entries as raw JSON text, in order.
struct Edge {
    what: &'static str,
    parts: Vec<(&'static str, String)>,
}

impl Edge {
    fn new(what: &'static str, parts: &[(&'static str, &str)]) -> Self {
        Edge {
            what,
            parts: parts.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        }
    }

    /// The event's JSON text, exactly as posted.
    fn text(&self) -> String {
        let entries: Vec<String> = self
            .parts
            .iter()
            .map(|(key, raw)| format!("\"{key}\":{raw}"))
            .collect();
        format!("{{{}}}", entries.join(","))
    }

    /// The entries ingest keeps byte for byte: the payload, unknown fields
    /// (the last of a repeated key) and a meta that names its `app_id`.
    fn kept(&self) -> Vec<(&'static str, &str)> {
        let mut kept: Vec<(&'static str, &str)> = Vec::new();
        for (key, raw) in &self.parts {
            let as_written = *key == "payload"
                || !KNOWN.contains(key)
                || (*key == "meta" && raw.contains("\"app_id\""));
            if as_written {
                kept.retain(|(k, _)| k != key);
                kept.push((key, raw));
            }
        }
        kept
    }
}

/// `[[[...]]]`, `depth` arrays deep.
fn nested(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

/// The edge events ingest accepts, as the issue lists them and more.
fn accepted_edges() -> Vec<Edge> {
    let deep = format!("{{\"deep\":{}}}", nested(122));
    vec![
        Edge::new(
            "nesting just under the depth limit (126 levels in the body)",
            &[
                ("event_id", r#""e01""#),
                ("event_type", r#""edge.deep""#),
                ("payload", &deep),
            ],
        ),
        Edge::new(
            "a number beyond f64: 1e99999",
            &[
                ("event_id", r#""e02""#),
                ("event_type", r#""edge.huge""#),
                ("payload", r#"{"n":1e99999,"m":-1E+99999}"#),
            ],
        ),
        Edge::new(
            "seq of \"abc\"",
            &[
                ("event_id", r#""e03""#),
                ("event_type", r#""edge.seq""#),
                ("seq", r#""abc""#),
            ],
        ),
        Edge::new(
            "seq of -1",
            &[
                ("event_id", r#""e04""#),
                ("event_type", r#""edge.seq""#),
                ("seq", "-1"),
            ],
        ),
        Edge::new(
            "seq of 0",
            &[
                ("event_id", r#""e05""#),
                ("event_type", r#""edge.seq""#),
                ("seq", "0"),
            ],
        ),
        Edge::new(
            "an integer of 30 digits",
            &[
                ("event_id", r#""e06""#),
                ("event_type", r#""edge.int""#),
                ("payload", "123456789012345678901234567890"),
                ("count", "-123456789012345678901234567890"),
            ],
        ),
        Edge::new(
            "keys out of order, the event's own included",
            &[
                ("timestamp", "1700000000006"),
                ("payload", r#"{"z":1,"a":2,"m":{"y":[3,2,1],"b":null}}"#),
                ("zeta", "1"),
                ("event_type", r#""edge.order""#),
                ("alpha", "2"),
                ("event_id", r#""e07""#),
            ],
        ),
        Edge::new(
            "numbers as written: 1e2, 1.50, -0, 5e-324",
            &[
                ("event_id", r#""e08""#),
                ("event_type", r#""edge.numbers""#),
                (
                    "payload",
                    r#"{"n":1e2,"f":1.50,"z":-0,"tiny":5e-324,"e":2E-3}"#,
                ),
            ],
        ),
        Edge::new(
            "an empty source",
            &[
                ("event_id", r#""e09""#),
                ("event_type", r#""edge.source""#),
                ("source", r#""""#),
            ],
        ),
        Edge::new(
            "unicode escapes",
            &[
                ("event_id", r#""e\u0031\u00e9""#),
                ("event_type", r#""edge.\u0075nicode""#),
                ("message", r#""caf\u00e9 \ud83d\ude00""#),
                (
                    "payload",
                    r#"{"s":"\u00e9\ud83d\ude00\u2028\"\\\/\u0000","\u006b":"\uFFFF"}"#,
                ),
            ],
        ),
        Edge::new(
            "empty objects and lists",
            &[
                ("event_id", r#""e11""#),
                ("event_type", r#""edge.empty""#),
                ("payload", "{}"),
                ("meta", "{}"),
                ("o", "{}"),
                ("l", "[]"),
                ("s", r#""""#),
            ],
        ),
        Edge::new(
            "unknown fields of every JSON type",
            &[
                ("event_id", r#""e12""#),
                ("event_type", r#""edge.extra""#),
                ("trace", r#"{"id":[1,2,{"k":null}],"f":0.1}"#),
                ("flag", "true"),
                ("nothing", "null"),
                ("text", r#""x""#),
            ],
        ),
        Edge::new(
            "a meta with its app_id, numbers and nesting",
            &[
                ("event_id", r#""e13""#),
                ("event_type", r#""edge.meta""#),
                (
                    "meta",
                    r#"{"z":1e2,"app_id":"app","big":123456789012345678901234567890,"n":{"b":[],"a":{}}}"#,
                ),
            ],
        ),
        Edge::new(
            "a lower-case level and a float timestamp",
            &[
                ("event_id", r#""e14""#),
                ("event_type", r#""edge.level""#),
                ("level", r#""warning""#),
                ("timestamp", "1.700000000014e12"),
            ],
        ),
        Edge::new(
            "control characters in strings",
            &[
                ("event_id", r#""e15""#),
                ("event_type", r#""edge.\u001b[2J""#),
                ("message", r#""\u001b]0;t\u0007\n\t\r""#),
                ("payload", r#""\u001b\u009b\u202e""#),
            ],
        ),
        Edge::new(
            "a repeated unknown key",
            &[
                ("event_id", r#""e16""#),
                ("event_type", r#""edge.dup""#),
                ("dup", "1"),
                ("payload", r#"{"a":1,"a":2}"#),
                ("dup", "[2]"),
            ],
        ),
        Edge::new(
            "spaces between tokens",
            &[
                ("event_id", r#""e17""#),
                ("event_type", r#""edge.spaces""#),
                ("payload", r#"{ "a" : [ 1 , 2 ] ,  "b":{ } }"#),
            ],
        ),
        Edge::new(
            "a run and an error with unknown keys",
            &[
                ("event_id", r#""e18""#),
                ("event_type", r#""edge.run""#),
                (
                    "run",
                    r#"{"run_kind":"agent_execution","run_id":"r18","zz":1,"meta":{"b":1e2,"a":[1]}}"#,
                ),
                ("error", r#"{"type":"ValueError","message":"bad","x":1}"#),
            ],
        ),
        Edge::new("nothing but its type", &[("event_type", r#""edge.bare""#)]),
        Edge::new(
            "an id with quotes and a payload that is a lone number",
            &[
                ("event_id", r#""e \"20\" \\ é""#),
                ("event_type", r#""edge.id""#),
                ("payload", "1e2"),
            ],
        ),
    ]
}

/// Posts `text` as a one-event ingest body; whether it was stored.
fn posted(url: &str, text: &str) -> (bool, String) {
    let body = format!("{{\"events\":[{text}]}}");
    let (status, answer) = answer(
        agent()
            .post(&format!("{url}/observation/ingest"))
            .set("Content-Type", "application/json")
            .send_string(&body),
    );
    let stored = status == 200 && answer["data"]["ingested"] == 1;
    (stored, format!("{status} {answer}"))
}

/// Every stored event's JSON text, from a store no server holds.
fn exported(dir: &Path) -> Vec<String> {
    let store = ObservationStore::open(dir).expect("open the store");
    store
        .export()
        .collect::<Result<_, _>>()
        .expect("export the store")
}

/// The stored text of `key`'s value in an exported event line (the last
/// entry of that key).
fn raw_entry<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    entries_of(line)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, raw)| raw.get())
}

/// An object's entries in order, values as raw text.
fn entries_of(text: &str) -> Vec<(String, &serde_json::value::RawValue)> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, &'de serde_json::value::RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                out.push((key, map.next_value()?));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Entries).expect("an event object")
}

#[test]
fn every_event_ingest_accepts_comes_back_from_export_and_import_as_the_same_json() {
    let dir = tempfile::tempdir().unwrap();
    let edges = accepted_edges();
    let server = start_on(dir.path(), |builder| builder);
    for edge in &edges {
        let (stored, answer) = posted(&server.url(), &edge.text());
        assert!(stored, "ingest refused {}: {answer}", edge.what);
    }
    server.shutdown();

    let first = exported(dir.path());
    assert_eq!(first.len(), edges.len(), "{first:#?}");
    for (edge, line) in edges.iter().zip(&first) {
        assert!(raw_entry(line, "event_type").is_some(), "{line}");
        for (key, raw) in edge.kept() {
            assert_eq!(
                raw_entry(line, key),
                Some(raw),
                "{}: `{key}` is not as posted in {line}",
                edge.what
            );
        }
        let extras: Vec<&str> = edge
            .kept()
            .into_iter()
            .filter(|(k, _)| !KNOWN.contains(k))
            .map(|(k, _)| k)
            .collect();
        let order: Vec<String> = entries_of(line)
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .collect();
        assert_eq!(
            order, extras,
            "{}: unknown fields in posted order",
            edge.what
        );
    }

    let copy = tempfile::tempdir().unwrap();
    let mut store = ObservationStore::open(copy.path()).unwrap();
    let done = store.ingest_json(&first).expect("import the export");
    assert!(
        done.refused.is_empty(),
        "import refused: {:#?}",
        done.refused
    );
    assert_eq!((done.new, done.duplicates), (edges.len(), 0));
    drop(store);
    let second = exported(copy.path());
    assert_eq!(
        second, first,
        "export -> import -> export is not the same text"
    );
}

/// Events whose verdict may depend on the server's limits, and events
/// ingest refuses: import must reach the same verdict on each.
fn limit_and_bad_edges() -> Vec<(&'static str, String)> {
    vec![
        (
            "nesting just over 128 levels",
            format!(r#"{{"event_type":"d","payload":{}}}"#, nested(130)),
        ),
        (
            "nesting 100,000 levels deep",
            format!(r#"{{"event_type":"d","x":{}}}"#, nested(100_000)),
        ),
        (
            "deep nesting in meta",
            format!(r#"{{"event_type":"d","meta":{{"k":{}}}}}"#, nested(200)),
        ),
        (
            "a line over 8 MiB",
            format!(
                r#"{{"event_type":"big","payload":"{}"}}"#,
                "x".repeat(9 << 20)
            ),
        ),
        ("no event_type", r#"{"source":"x"}"#.to_owned()),
        ("an empty event_type", r#"{"event_type":""}"#.to_owned()),
        (
            "an unknown level",
            r#"{"event_type":"a","level":"LOUD"}"#.to_owned(),
        ),
        (
            "a run without run_id",
            r#"{"event_type":"a","run":{"run_kind":"k"}}"#.to_owned(),
        ),
        (
            "a meta that is a list",
            r#"{"event_type":"a","meta":[1]}"#.to_owned(),
        ),
        (
            "a timestamp in words",
            r#"{"event_type":"a","timestamp":"now"}"#.to_owned(),
        ),
        (
            "a lone surrogate in the type",
            r#"{"event_type":"\ud800"}"#.to_owned(),
        ),
        (
            "a lone surrogate in the payload",
            r#"{"event_type":"a","payload":"\ud800"}"#.to_owned(),
        ),
        ("an event that is a list", "[1,2]".to_owned()),
        ("an event that is a string", r#""event""#.to_owned()),
    ]
}

#[test]
fn import_refuses_exactly_what_ingest_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_on(dir.path(), |builder| builder);
    let mut cases: Vec<(&str, String)> = accepted_edges()
        .into_iter()
        .map(|edge| (edge.what, edge.text()))
        .collect();
    cases.extend(limit_and_bad_edges());
    let verdicts: Vec<(bool, String)> = cases
        .iter()
        .map(|(_, text)| posted(&server.url(), text))
        .collect();
    server.shutdown();

    let copy = tempfile::tempdir().unwrap();
    let mut store = ObservationStore::open(copy.path()).unwrap();
    let texts: Vec<&str> = cases.iter().map(|(_, text)| text.as_str()).collect();
    let done = store.ingest_json(&texts).expect("import");
    for (index, ((what, _), (stored, answer))) in cases.iter().zip(&verdicts).enumerate() {
        let refused = done.refused.iter().find(|r| r.index == index);
        assert_eq!(
            refused.is_none(),
            *stored,
            "{what}: ingest answered {answer}, import said {refused:?}"
        );
    }
    let over = done
        .refused
        .iter()
        .find(|r| cases[r.index].0 == "a line over 8 MiB")
        .expect("the 9 MiB line is refused");
    assert_eq!(over.fault, TextFault::TooLong);

    // Both stores hold the same events, but for the ids and times each
    // gave the events that came without them.
    let accepted: Vec<&str> = cases
        .iter()
        .zip(&verdicts)
        .filter(|(_, (stored, _))| *stored)
        .map(|((_, text), _)| text.as_str())
        .collect();
    let (ingested, imported) = (exported(dir.path()), exported(copy.path()));
    assert_eq!(ingested.len(), accepted.len());
    assert_eq!(imported.len(), accepted.len());
    for ((text, a), b) in accepted.iter().zip(&ingested).zip(&imported) {
        let given = |line| {
            let mut entries: Vec<(String, String)> = entries_of(line)
                .into_iter()
                .map(|(key, raw)| (key, raw.get().to_owned()))
                .collect();
            for generated in ["event_id", "timestamp"] {
                if !text.contains(&format!("\"{generated}\"")) {
                    entries.retain(|(key, _)| key != generated);
                }
            }
            entries
        };
        assert_eq!(
            given(a),
            given(b),
            "import stored another event than ingest"
        );
    }
}
