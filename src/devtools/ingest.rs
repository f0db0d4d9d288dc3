//! Ingest bodies: `{app_id?, group_id?, environment?, events: [...]}` read
//! into borrowed parts (payload and extra fields stay raw JSON text), each
//! event normalized as Agently DevTools' ingest route does and written once
//! as the JSON text the store keeps and the API serves.
//!
//! Normalization: only `event_type` is required; `event_id` defaults to a
//! new time-ordered id, `timestamp` to now, `source` to `"Agently"`, `level`
//! to `INFO` (any case is accepted and stored upper-case); `meta.app_id`
//! defaults to the body's `app_id` or `"default"`, `meta.group_id` and
//! `meta.environment` to the body's when it gives them. The run is written
//! with Agently's ten RunContext fields (`root_run_id` defaulting to
//! `run_id`), the error with its eight ErrorInfo fields. Unknown top-level
//! fields are kept. Payload, meta and extra fields are kept byte for byte,
//! except that JSON spread over several lines is put on one line (so every
//! stored event is one JSONL line).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::event::{now_millis, EventError, EventErrorKind, EventId, JsonMap, Level};
use crate::run::RunContext;
use crate::ErrorInfo;

use super::compact::needs_compaction;
use super::error::{ServerError, ServerErrorKind};

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
    /// Whether the compact view shortens this event's payload or error.
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
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element::Other("an array"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Element::Other("a string"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Element::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Element::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Element::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Element::Other("a number"))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Element::Other("null"))
            }
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

/// The JSON type of a raw value, for messages.
pub(crate) fn raw_type(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// Reads an object's entries; `None` when the value is not an object.
pub(crate) fn entries(raw: &RawValue) -> Option<Entries<'_>> {
    if raw.get().starts_with('{') {
        serde_json::from_str(raw.get()).ok()
    } else {
        None
    }
}

/// Parses a request body. A body that is not a JSON object, or whose
/// `app_id`, `group_id`, `environment` or `events` has the wrong type, is
/// one error for the whole body; otherwise each event is valid or rejected
/// on its own.
pub(crate) fn parse_body(body: &[u8]) -> Result<Batch, FieldError> {
    let body_loc = || vec![Loc::Key("body".to_owned())];
    let text = std::str::from_utf8(body).map_err(|e| {
        FieldError::new(
            "json_invalid",
            body_loc(),
            format!("the body is not UTF-8 text ({e}); send JSON encoded as UTF-8"),
        )
    })?;
    let body: Element<'_> = serde_json::from_str(text).map_err(|e| {
        FieldError::new(
            "json_invalid",
            body_loc(),
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let fields = match body {
        Element::Object(fields) => fields,
        Element::Other(found) => {
            return Err(FieldError::new(
                "model_attributes_type",
                body_loc(),
                format!("the body must be a JSON object like {{\"events\": [...]}}, found {found}"),
            ))
        }
    };
    let mut defaults = Defaults::default();
    let mut events: Vec<Element<'_>> = Vec::new();
    for (key, value) in fields.0 {
        let loc = || vec![Loc::Key("body".to_owned()), Loc::Key(key.to_string())];
        let slot = match &*key {
            "app_id" => &mut defaults.app_id,
            "group_id" => &mut defaults.group_id,
            "environment" => &mut defaults.environment,
            "events" => {
                if !value.get().starts_with('[') {
                    return Err(FieldError::new(
                        "list_type",
                        loc(),
                        format!(
                            "`events` must be a list of events, found {}",
                            raw_type(value)
                        ),
                    ));
                }
                events = serde_json::from_str(value.get()).map_err(|e| {
                    FieldError::new("list_type", loc(), format!("`events` is not a list: {e}"))
                })?;
                continue;
            }
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
    Ok(parse_events(events, &defaults))
}

/// Normalizes each raw event; bad ones are rejected with their index.
pub(crate) fn parse_events(events: Vec<Element<'_>>, defaults: &Defaults<'_>) -> Batch {
    let mut batch = Batch {
        events: Vec::with_capacity(events.len()),
        rejected: Vec::new(),
    };
    for (index, element) in events.into_iter().enumerate() {
        let parsed = match element {
            Element::Object(fields) => parse_event(fields, defaults),
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
/// HTTP batch without body defaults; any invalid one fails the whole call.
pub(crate) fn parse_rust_events(events: &[crate::Event]) -> Result<Vec<NewEvent>, ServerError> {
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
    let batch = parse_events(elements, &Defaults::default());
    match batch.rejected.into_iter().next() {
        Some((index, error)) => Err(invalid(index, error.event_field(), error.msg)),
        None => Ok(batch.events),
    }
}

/// A string or null; the JSON type found otherwise.
pub(crate) fn optional_string(raw: &RawValue) -> Result<Option<Cow<'_, str>>, &'static str> {
    match serde_json::from_str::<Option<BStr<'_>>>(raw.get()) {
        Ok(value) => Ok(value.map(|s| s.0)),
        Err(_) => Err(raw_type(raw)),
    }
}

/// What is wrong with one event: its field path, error type and message.
type EventFault = (String, &'static str, String);

fn fault(field: &str, kind: &'static str, msg: impl Into<String>) -> EventFault {
    (field.to_owned(), kind, msg.into())
}

fn from_event_error(error: EventError) -> EventFault {
    let kind = match error.kind() {
        EventErrorKind::Missing => "missing",
        EventErrorKind::WrongType { .. } => "type_error",
        _ => "value_error",
    };
    (error.field().to_owned(), kind, error.to_string())
}

fn string_field<'a>(raw: &'a RawValue, field: &str) -> Result<Option<Cow<'a, str>>, EventFault> {
    optional_string(raw).map_err(|found| {
        fault(
            field,
            "string_type",
            format!("event field `{field}` must be a string, found {found}"),
        )
    })
}

fn parse_event(fields: Entries<'_>, defaults: &Defaults<'_>) -> Result<NewEvent, EventFault> {
    let mut event_id = None;
    let mut event_type = None;
    let mut source = None;
    let mut level = Level::Info;
    let mut message = None;
    let mut payload: Option<&RawValue> = None;
    let mut error = None;
    let mut run = None;
    let mut meta = None;
    let mut timestamp = None;
    let mut extra: Vec<(Cow<'_, str>, &RawValue)> = Vec::new();
    for (key, value) in fields.0 {
        match &*key {
            "event_id" => event_id = string_field(value, "event_id")?,
            "event_type" => event_type = string_field(value, "event_type")?,
            "source" => source = string_field(value, "source")?,
            "message" => message = string_field(value, "message")?,
            "level" => {
                level = match string_field(value, "level")? {
                    None => Level::Info,
                    Some(text) => text.parse().map_err(|e: crate::ParseLevelError| {
                        fault(
                            "level",
                            "literal_error",
                            format!("event field `level`: {e}"),
                        )
                    })?,
                }
            }
            "payload" => payload = Some(value),
            "error" => {
                error = if is_null(value) {
                    None
                } else {
                    let value: Value = serde_json::from_str(value.get())
                        .map_err(|e| fault("error", "json_invalid", e.to_string()))?;
                    Some(ErrorInfo::from_json(value, "error").map_err(from_event_error)?)
                }
            }
            "run" => {
                run = if is_null(value) {
                    None
                } else {
                    Some(parse_run(value)?)
                }
            }
            "meta" => {
                meta = if is_null(value) {
                    None
                } else {
                    Some((
                        value,
                        entries(value).ok_or_else(|| {
                            fault(
                                "meta",
                                "dict_type",
                                format!(
                                    "event field `meta` must be a JSON object, found {}",
                                    raw_type(value)
                                ),
                            )
                        })?,
                    ))
                }
            }
            "timestamp" => timestamp = parse_timestamp(value)?,
            _ => {
                extra.retain(|(k, _)| *k != key);
                extra.push((key, value));
            }
        }
    }
    let event_type = match event_type {
        Some(t) if !t.is_empty() => t.into_owned(),
        Some(_) => {
            return Err(fault(
                "event_type",
                "string_too_short",
                "event field `event_type` must not be empty",
            ))
        }
        None => {
            return Err(fault(
                "event_type",
                "missing",
                "event field `event_type` is required but missing or null",
            ))
        }
    };
    let timestamp = timestamp.unwrap_or_else(now_millis);
    let event_id = match event_id {
        Some(id) if !id.is_empty() => id.into_owned(),
        _ => EventId::at_millis(timestamp).to_string(),
    };
    let source = source.map_or_else(|| crate::DEFAULT_SOURCE.to_owned(), Cow::into_owned);
    let message = message.map(Cow::into_owned);
    let error_json = match &error {
        Some(info) => Some(
            serde_json::to_string(info)
                .map_err(|e| fault("error", "value_error", e.to_string()))?,
        ),
        None => None,
    };
    let run_json = match &run {
        Some(run) => Some(
            serde_json::to_string(run).map_err(|e| fault("run", "value_error", e.to_string()))?,
        ),
        None => None,
    };
    let payload = payload.map_or("null", RawValue::get);
    let compact = needs_compaction(payload) || error_json.as_deref().is_some_and(needs_compaction);

    // Meta: the event's own keys first, then the body defaults it lacks.
    let mut run_meta = Vec::new();
    let mut app_id = None;
    let mut group_id = None;
    let mut has = [false; 3];
    if let Some((_, entries)) = &meta {
        for (key, value) in &entries.0 {
            if let Some(i) = RUN_META_KEYS.iter().position(|k| k == key) {
                has[i] = true;
                let parsed: Value = serde_json::from_str(value.get()).unwrap_or(Value::Null);
                run_meta.retain(|(k, _)| *k != RUN_META_KEYS[i]);
                run_meta.push((RUN_META_KEYS[i], parsed));
            }
        }
    }
    let mut additions: Vec<(&'static str, String)> = Vec::new();
    let default_app = defaults.app_id.as_deref().unwrap_or("default");
    for (i, default) in [
        Some(default_app),
        defaults.group_id.as_deref(),
        defaults.environment.as_deref(),
    ]
    .into_iter()
    .enumerate()
    {
        if let (false, Some(value)) = (has[i], default) {
            additions.push((RUN_META_KEYS[i], value.to_owned()));
            run_meta.push((RUN_META_KEYS[i], Value::String(value.to_owned())));
        }
    }
    for (key, value) in &run_meta {
        if let Value::String(s) = value {
            match *key {
                "app_id" => app_id = Some(s.clone()),
                "group_id" => group_id = Some(s.clone()),
                _ => {}
            }
        }
    }

    let mut json = String::with_capacity(256 + payload.len());
    json.push_str("{\"event_id\":");
    push_json_str(&mut json, &event_id);
    json.push_str(",\"event_type\":");
    push_json_str(&mut json, &event_type);
    json.push_str(",\"source\":");
    push_json_str(&mut json, &source);
    json.push_str(",\"level\":\"");
    json.push_str(level.as_str());
    json.push_str("\",\"message\":");
    match &message {
        Some(m) => push_json_str(&mut json, m),
        None => json.push_str("null"),
    }
    json.push_str(",\"payload\":");
    json.push_str(&one_line(payload));
    json.push_str(",\"error\":");
    json.push_str(error_json.as_deref().unwrap_or("null"));
    json.push_str(",\"run\":");
    json.push_str(run_json.as_deref().unwrap_or("null"));
    json.push_str(",\"meta\":");
    let meta_text = meta
        .as_ref()
        .map(|(raw, entries)| (one_line(raw.get()), entries.0.is_empty()));
    match meta_text {
        Some((text, false)) if additions.is_empty() => json.push_str(&text),
        Some((text, false)) => {
            // Insert the additions before the object's closing brace.
            let open = text.trim_end().strip_suffix('}').unwrap_or(&text);
            json.push_str(open.trim_end());
            for (key, value) in &additions {
                json.push(',');
                push_json_str(&mut json, key);
                json.push(':');
                push_json_str(&mut json, value);
            }
            json.push('}');
        }
        _ => {
            json.push('{');
            for (i, (key, value)) in additions.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                push_json_str(&mut json, key);
                json.push(':');
                push_json_str(&mut json, value);
            }
            json.push('}');
        }
    }
    json.push_str(",\"timestamp\":");
    json.push_str(&timestamp.to_string());
    for (key, value) in &extra {
        json.push(',');
        push_json_str(&mut json, key);
        json.push(':');
        json.push_str(&one_line(value.get()));
    }
    json.push('}');

    Ok(NewEvent {
        event_id,
        event_type,
        source,
        level,
        message,
        timestamp,
        run,
        app_id,
        group_id,
        run_meta,
        compact,
        json,
    })
}

/// Reads Agently's RunContext (`run_id` and `run_kind` required, the other
/// ids optional strings, `meta` an object); `root_run_id` defaults to
/// `run_id`, unknown keys are dropped.
fn parse_run(raw: &RawValue) -> Result<RunContext, EventFault> {
    let fields = entries(raw).ok_or_else(|| {
        fault(
            "run",
            "model_attributes_type",
            format!(
                "event field `run` must be a JSON object, found {}",
                raw_type(raw)
            ),
        )
    })?;
    let mut ids: [Option<String>; 9] = Default::default();
    const IDS: [(&str, &str); 9] = [
        ("run_id", "run.run_id"),
        ("run_kind", "run.run_kind"),
        ("root_run_id", "run.root_run_id"),
        ("parent_run_id", "run.parent_run_id"),
        ("agent_id", "run.agent_id"),
        ("agent_name", "run.agent_name"),
        ("session_id", "run.session_id"),
        ("response_id", "run.response_id"),
        ("execution_id", "run.execution_id"),
    ];
    let mut meta = JsonMap::new();
    for (key, value) in fields.0 {
        if key == "meta" {
            if !is_null(value) {
                meta = match entries(value) {
                    Some(_) => serde_json::from_str(value.get())
                        .map_err(|e| fault("run.meta", "dict_type", e.to_string()))?,
                    None => {
                        return Err(fault(
                            "run.meta",
                            "dict_type",
                            format!(
                                "event field `run.meta` must be a JSON object, found {}",
                                raw_type(value)
                            ),
                        ))
                    }
                };
            }
        } else if let Some(i) = IDS.iter().position(|(name, _)| *name == key) {
            ids[i] = string_field(value, IDS[i].1)?.map(Cow::into_owned);
        }
    }
    let [run_id, run_kind, root_run_id, parent_run_id, agent_id, agent_name, session_id, response_id, execution_id] =
        ids;
    let missing = |field: &str| {
        fault(
            field,
            "missing",
            format!("event field `{field}` is required but missing or null"),
        )
    };
    let run_id = run_id.ok_or_else(|| missing("run.run_id"))?;
    let run_kind = run_kind.ok_or_else(|| missing("run.run_kind"))?;
    Ok(RunContext {
        root_run_id: Some(root_run_id.unwrap_or_else(|| run_id.clone())),
        run_id,
        run_kind,
        parent_run_id,
        agent_id,
        agent_name,
        session_id,
        response_id,
        execution_id,
        meta,
    })
}

fn parse_timestamp(raw: &RawValue) -> Result<Option<i64>, EventFault> {
    let bad = || {
        fault(
            "timestamp",
            "int_type",
            format!(
                "event field `timestamp` must be integer Unix milliseconds, found {}",
                raw.get().chars().take(40).collect::<String>()
            ),
        )
    };
    if is_null(raw) {
        return Ok(None);
    }
    let number: serde_json::Number = serde_json::from_str(raw.get()).map_err(|_| bad())?;
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(bad)
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
        let mut batch = parse_body(body.as_bytes()).unwrap();
        assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
        batch.events.remove(0)
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
        let batch = parse_body(br#"{"events":[{"event_type":"ok"},{"source":"x"},{"event_type":"x","run":{"run_kind":"k"}},7]}"#).unwrap();
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
