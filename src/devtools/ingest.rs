//! Ingest bodies: `{app_id?, group_id?, environment?, events: [...]}` read
//! into borrowed parts (each event's fields stay raw JSON text), each event
//! checked and written once as the JSON text the store keeps and the API
//! serves (see `normalize.rs`), with the limits and redaction of
//! `scrub.rs`. Every step is linear in the body's size.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::event::Level;
use crate::run::RunContext;
use crate::Redaction;

use super::error::{ServerError, ServerErrorKind};
use super::normalize::{fault, parse_event};
use super::scrub::Scrubber;

/// The meta keys a run record takes from its events' meta.
pub(crate) const RUN_META_KEYS: [&str; 3] = ["app_id", "group_id", "environment"];

/// One event, normalized and ready to store and publish.
#[derive(Debug)]
pub(crate) struct NewEvent {
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) source: String,
    pub(crate) level: Level,
    pub(crate) message: Option<String>,
    pub(crate) timestamp: i64,
    pub(crate) run: Option<RunContext>,
    /// `meta.app_id` when it is a string (the indexed column).
    pub(crate) app_id: Option<String>,
    /// `meta.group_id` when it is a string.
    pub(crate) group_id: Option<String>,
    /// The [`RUN_META_KEYS`] present in meta, with their values.
    pub(crate) run_meta: Vec<(&'static str, Value)>,
    /// Whether the compact view shortens some part of this event.
    pub(crate) compact: bool,
    /// The whole event as JSON text.
    pub(crate) json: String,
}

/// One part of the location of a bad value, FastAPI-style: a key or a list
/// index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    Key(String),
    Index(usize),
}

impl Serialize for Loc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Loc::Key(key) => serializer.serialize_str(key),
            Loc::Index(index) => serializer.serialize_u64(*index as u64),
        }
    }
}

/// A bad value in a request, in FastAPI's validation-error shape:
/// `{"type": ..., "loc": ["body", "events", 3, "run", "run_id"], "msg": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) loc: Vec<Loc>,
    pub(crate) msg: String,
}

impl FieldError {
    pub(crate) fn new(kind: &'static str, loc: Vec<Loc>, msg: impl Into<String>) -> Self {
        FieldError {
            kind,
            loc,
            msg: msg.into(),
        }
    }

    /// The dotted path after `body.events.N` (`run.run_id`), or `event`.
    pub(crate) fn event_field(&self) -> String {
        let path: Vec<String> = self
            .loc
            .iter()
            .skip(3)
            .map(|part| match part {
                Loc::Key(key) => key.clone(),
                Loc::Index(index) => index.to_string(),
            })
            .collect();
        if path.is_empty() {
            "event".to_owned()
        } else {
            path.join(".")
        }
    }
}

/// A parsed body: its valid events, and an error for each invalid one.
pub(crate) struct Batch {
    pub(crate) events: Vec<NewEvent>,
    pub(crate) rejected: Vec<(usize, FieldError)>,
}

/// The body-level defaults applied to each event's meta.
#[derive(Default)]
pub(crate) struct Defaults<'a> {
    pub(crate) app_id: Option<Cow<'a, str>>,
    pub(crate) group_id: Option<Cow<'a, str>>,
    pub(crate) environment: Option<Cow<'a, str>>,
}

/// A string borrowed from the input when it has no escapes.
#[derive(Deserialize)]
struct BStr<'a>(#[serde(borrow)] Cow<'a, str>);

/// A JSON object's entries in order, values as raw text.
pub(crate) struct Entries<'a>(pub(crate) Vec<(Cow<'a, str>, &'a RawValue)>);

fn collect_entries<'de, A: MapAccess<'de>>(mut map: A) -> Result<Entries<'de>, A::Error> {
    let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(12));
    while let Some(key) = map.next_key::<BStr<'de>>()? {
        entries.push((key.0, map.next_value::<&'de RawValue>()?));
    }
    Ok(Entries(entries))
}

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                collect_entries(map)
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// The `visit_*` methods of a visitor whose value has an `Other` variant
/// holding the JSON type found: for every type the visitor does not read.
macro_rules! other_types {
    ($value:ident) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value::Other("a string"))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value::Other("a boolean"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value::Other("a number"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value::Other("a number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value::Other("a number"))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value::Other("null"))
        }
    };
}

/// Skips an array's elements.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// One element of `events`, read in the same pass as the list: an object's
/// entries, or the JSON type of anything else.
pub(crate) enum Element<'a> {
    Object(Entries<'a>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                collect_entries(map).map(Element::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| Element::Other("an array"))
            }
            other_types!(Element);
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

/// A body's `events`: its elements, read in the same pass as the body, or
/// the JSON type found instead of a list.
enum Events<'a> {
    List(Vec<Element<'a>>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Events<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventsVisitor;
        impl<'de> Visitor<'de> for EventsVisitor {
            type Value = Events<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while let Some(element) = seq.next_element()? {
                    list.push(element);
                }
                Ok(Events::List(list))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Events::Other("an object"))
            }
            other_types!(Events);
        }
        deserializer.deserialize_any(EventsVisitor)
    }
}

/// A value of a body's field: `events` read as [`Events`], the others kept
/// as raw text.
enum BodyField<'a> {
    Events(Events<'a>),
    Raw(&'a RawValue),
}

/// A request body read in one pass: its fields in order, or the JSON type
/// found instead of an object.
enum Body<'a> {
    Object(Vec<(Cow<'a, str>, BodyField<'a>)>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Body<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BodyVisitor;
        impl<'de> Visitor<'de> for BodyVisitor {
            type Value = Body<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<BStr<'de>>()? {
                    let value = if key.0 == "events" {
                        BodyField::Events(map.next_value()?)
                    } else {
                        BodyField::Raw(map.next_value()?)
                    };
                    fields.push((key.0, value));
                }
                Ok(Body::Object(fields))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| Body::Other("an array"))
            }
            other_types!(Body);
        }
        deserializer.deserialize_any(BodyVisitor)
    }
}

/// The JSON type of a raw value, for messages (a string that cannot be
/// read as text is said to be so).
pub(crate) fn raw_type(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') if serde_json::from_str::<BStr<'_>>(raw.get()).is_err() => {
            "a string that is not valid Unicode (it holds a lone surrogate)"
        }
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Reads an object's entries; `None` when the value is not an object.
pub(crate) fn entries(raw: &RawValue) -> Option<Entries<'_>> {
    if raw.get().starts_with('{') {
        serde_json::from_str(raw.get()).ok()
    } else {
        None
    }
}

/// Parses a request body, masking secrets with `redaction`. A body that is
/// not a JSON object, or whose `app_id`, `group_id`, `environment` or
/// `events` has the wrong type, is one error for the whole body; otherwise
/// each event is valid or rejected on its own.
pub(crate) fn parse_body(body: &[u8], redaction: &Redaction) -> Result<Batch, FieldError> {
    let body_loc = || vec![Loc::Key("body".to_owned())];
    let text = std::str::from_utf8(body).map_err(|e| {
        FieldError::new(
            "json_invalid",
            body_loc(),
            format!("the body is not UTF-8 text ({e}); send JSON encoded as UTF-8"),
        )
    })?;
    let body: Body<'_> = serde_json::from_str(text).map_err(|e| {
        FieldError::new(
            "json_invalid",
            body_loc(),
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let fields = match body {
        Body::Object(fields) => fields,
        Body::Other(found) => {
            return Err(FieldError::new(
                "model_attributes_type",
                body_loc(),
                format!("the body must be a JSON object like {{\"events\": [...]}}, found {found}"),
            ))
        }
    };
    let mut defaults = Defaults::default();
    let mut events: Vec<Element<'_>> = Vec::new();
    for (key, value) in fields {
        let loc = || vec![Loc::Key("body".to_owned()), Loc::Key(key.to_string())];
        let value = match value {
            BodyField::Events(Events::List(list)) => {
                events = list;
                continue;
            }
            BodyField::Events(Events::Other(found)) => {
                return Err(FieldError::new(
                    "list_type",
                    loc(),
                    format!("`events` must be a list of events, found {found}"),
                ))
            }
            BodyField::Raw(value) => value,
        };
        let slot = match &*key {
            "app_id" => &mut defaults.app_id,
            "group_id" => &mut defaults.group_id,
            "environment" => &mut defaults.environment,
            _ => continue,
        };
        *slot = optional_string(value).map_err(|found| {
            FieldError::new(
                "string_type",
                loc(),
                format!("`{key}` must be a string or null, found {found}"),
            )
        })?;
    }
    Ok(parse_events(events, &defaults, redaction))
}

/// Normalizes each raw event; bad ones are rejected with their index.
pub(crate) fn parse_events(
    events: Vec<Element<'_>>,
    defaults: &Defaults<'_>,
    redaction: &Redaction,
) -> Batch {
    let scrubber = Scrubber::new(redaction);
    let mut batch = Batch {
        events: Vec::with_capacity(events.len()),
        rejected: Vec::new(),
    };
    for (index, element) in events.into_iter().enumerate() {
        let parsed = match element {
            Element::Object(fields) => parse_event(fields, defaults, &scrubber),
            Element::Other(found) => Err(fault(
                "",
                "model_attributes_type",
                format!("an event must be a JSON object, found {found}"),
            )),
        };
        match parsed {
            Ok(event) => batch.events.push(event),
            Err((field, kind, msg)) => {
                let mut loc = vec![
                    Loc::Key("body".to_owned()),
                    Loc::Key("events".to_owned()),
                    Loc::Index(index),
                ];
                loc.extend(
                    field
                        .split('.')
                        .filter(|part| !part.is_empty())
                        .map(|part| Loc::Key(part.to_owned())),
                );
                batch
                    .rejected
                    .push((index, FieldError::new(kind, loc, msg)));
            }
        }
    }
    batch
}

/// Normalizes events built in Rust (a CLI import, a fan-in) exactly as an
/// HTTP batch without body defaults, without redaction (the library's own
/// stage masks secrets before events leave a center); any invalid one
/// fails the whole call.
pub(crate) fn parse_rust_events(
    events: &[crate::Event],
    redaction: &Redaction,
) -> Result<Vec<NewEvent>, ServerError> {
    let invalid = |index: usize, field: String, msg: String| {
        ServerError::new(ServerErrorKind::InvalidEvent { index, field }, msg)
    };
    let texts = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            serde_json::to_string(event).map_err(|e| invalid(i, "event".into(), e.to_string()))
        })
        .collect::<Result<Vec<String>, _>>()?;
    let elements = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            serde_json::from_str::<Element<'_>>(text)
                .map_err(|e| invalid(i, "event".into(), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = parse_events(elements, &Defaults::default(), redaction);
    match batch.rejected.into_iter().next() {
        Some((index, error)) => Err(invalid(index, error.event_field(), error.msg)),
        None => Ok(batch.events),
    }
}

/// Not part of the API: the ingest body parser for the fuzz target
/// (`fuzz/fuzz_targets/ingest_body.rs`). Parses `body` as `POST
/// /observation/ingest` does, with the default redaction or none, and
/// returns the stored JSON text of each accepted event, or `None` when the
/// body is refused as a whole.
#[doc(hidden)]
pub fn fuzz_ingest_body(body: &[u8], redact: bool) -> Option<Vec<String>> {
    let redaction = if redact {
        Redaction::default()
    } else {
        Redaction::none()
    };
    let batch = parse_body(body, &redaction).ok()?;
    Some(batch.events.into_iter().map(|event| event.json).collect())
}

/// A string or null; the JSON type found otherwise.
pub(crate) fn optional_string(raw: &RawValue) -> Result<Option<Cow<'_, str>>, &'static str> {
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    // A raw value is valid JSON: a string without escapes is the text
    // between its quotes.
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if !inner.contains('\\') {
            return Ok(Some(Cow::Borrowed(inner)));
        }
    }
    match serde_json::from_str::<Option<BStr<'_>>>(raw.get()) {
        Ok(value) => Ok(value.map(|s| s.0)),
        Err(_) => Err(raw_type(raw)),
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The JSON text on one line: unchanged unless it has line breaks, which
/// (outside strings, where JSON allows them only as whitespace) are removed
/// with the other whitespace between tokens.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(['\n', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> NewEvent {
        let mut batch = parse_body(body.as_bytes(), &Redaction::default()).unwrap();
        assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
        batch.events.remove(0)
    }

    /// The whole-body error of `body`: its type, location and message.
    fn refused(body: &str) -> (&'static str, Vec<Loc>, String) {
        match parse_body(body.as_bytes(), &Redaction::default()) {
            Ok(batch) => panic!("{body} was taken: {} events", batch.events.len()),
            Err(error) => (error.kind, error.loc, error.msg),
        }
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_refused_naming_the_field_and_the_type_found() {
        let key = |k: &str| Loc::Key(k.to_owned());
        for (found, events) in [
            ("an object", r#"{"a": [1, {"b": 2}]}"#),
            ("a string", r#""x""#),
            ("a number", "1e3"),
            ("null", "null"),
        ] {
            let (kind, loc, msg) = refused(&format!(r#"{{"app_id": "a", "events": {events}}}"#));
            assert_eq!(kind, "list_type");
            assert_eq!(loc, [key("body"), key("events")]);
            assert!(msg.ends_with(&format!("found {found}")), "{msg}");
        }
        let (kind, loc, msg) = refused(r#"{"events": [], "group_id": 7}"#);
        assert_eq!(
            (kind, loc),
            ("string_type", vec![key("body"), key("group_id")])
        );
        assert!(msg.contains("found a number"), "{msg}");
        let (kind, _, msg) = refused(r#"[{"events": []}]"#);
        assert_eq!(kind, "model_attributes_type");
        assert!(msg.ends_with("found an array"), "{msg}");
        let (kind, _, _) = refused(r#"{"events": [{"event_type": "a.b"}"#);
        assert_eq!(kind, "json_invalid");
    }

    #[test]
    fn the_last_events_list_of_a_body_is_the_one_taken_with_the_defaults_around_it() {
        let body = r#"{"events": [{"event_type": "first.one"}], "app_id": "shop",
            "events": [{"event_type": "a.b"}, 3, {"event_type": "c.d"}], "unknown": {"x": [1]}}"#;
        let batch = parse_body(body.as_bytes(), &Redaction::default()).unwrap();
        let types: Vec<&str> = batch.events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["a.b", "c.d"]);
        assert!(batch
            .events
            .iter()
            .all(|e| e.app_id.as_deref() == Some("shop")));
        assert_eq!(batch.rejected.len(), 1);
        assert_eq!(batch.rejected[0].0, 1);
    }

    #[test]
    fn events_given_from_rust_are_masked_as_the_servers_http_ingest_masks_them() {
        let event = crate::Event::new("tool.called")
            .with_payload(serde_json::json!({"api_key": "sk-live-123", "city": "Lisbon"}));
        let recent = |redaction: Option<Redaction>| {
            let mut builder = crate::ObservationServer::builder().with_port(0);
            if let Some(redaction) = redaction {
                builder = builder.with_redaction(redaction);
            }
            let server = builder.build().unwrap().start().unwrap();
            assert_eq!(server.ingest(std::slice::from_ref(&event)).unwrap(), 1);
            let url = format!(
                "{}/observation/events/recent?payload_mode=raw",
                server.url()
            );
            ureq::get(&url).call().unwrap().into_string().unwrap()
        };
        let masked = recent(None);
        assert!(masked.contains("Lisbon"), "{masked}");
        assert!(!masked.contains("sk-live-123"), "{masked}");
        let kept = recent(Some(Redaction::none()));
        assert!(kept.contains("sk-live-123"), "{kept}");

        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::ObservationStore::open(dir.path()).unwrap();
        store.ingest(std::slice::from_ref(&event)).unwrap();
        let stored = store.export().next().unwrap().unwrap();
        assert!(
            stored.contains("Lisbon") && !stored.contains("sk-live-123"),
            "{stored}"
        );
    }

    #[test]
    fn defaults_are_filled_and_the_payload_kept_byte_for_byte() {
        let event = one(
            r#"{"group_id":"g","events":[{"event_type":"a.b","payload":{"z":1,"a":[1.50,2]},"timestamp":7,"seq":3}]}"#,
        );
        let value: Value = serde_json::from_str(&event.json).unwrap();
        assert_eq!(value["source"], "Agently");
        assert_eq!(value["level"], "INFO");
        assert_eq!(
            value["meta"],
            serde_json::json!({"app_id": "default", "group_id": "g"})
        );
        assert_eq!(value["event_id"].as_str().unwrap().len(), 32);
        assert_eq!(value["seq"], 3);
        assert!(event.json.contains(r#""payload":{"z":1,"a":[1.50,2]}"#));
    }

    #[test]
    fn meta_keeps_its_own_app_id_and_gets_the_missing_defaults() {
        let event = one(
            r#"{"app_id":"x","environment":"dev","events":[{"event_type":"a","meta":{"app_id":"mine","k":{"n":[1]}}}]}"#,
        );
        assert!(event
            .json
            .contains(r#""meta":{"app_id":"mine","k":{"n":[1]},"environment":"dev"}"#));
        assert_eq!(event.app_id.as_deref(), Some("mine"));
    }

    #[test]
    fn multi_line_json_is_put_on_one_line() {
        let event =
            one("{\"events\":[{\"event_type\":\"a\",\"payload\":{\n \"k\": \"a b\\n\"\n}}]}");
        assert!(event.json.contains(r#""payload":{"k":"a b\n"}"#));
        assert!(!event.json.contains('\n'));
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_json_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(
            serde_json::from_str::<String>(&out).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
    }

    #[test]
    fn every_bad_event_is_named_and_the_good_ones_kept() {
        let batch = parse_body(
            br#"{"events":[{"event_type":"ok"},{"source":"x"},{"event_type":"x","run":{"run_kind":"k"}},7]}"#,
            &Redaction::default(),
        )
        .unwrap();
        assert_eq!(batch.events.len(), 1);
        let fields: Vec<(usize, String)> = batch
            .rejected
            .iter()
            .map(|(i, e)| (*i, e.event_field()))
            .collect();
        assert_eq!(
            fields,
            vec![
                (1, "event_type".to_owned()),
                (2, "run.run_id".to_owned()),
                (3, "event".to_owned())
            ]
        );
    }
}
