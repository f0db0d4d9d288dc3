//! One event of an ingest body, checked and written as the JSON text the
//! store keeps: every part as the client wrote it (numbers as written, key
//! order, unknown keys of the event, its run and its error), normalized
//! only where Agently's contract says so, secrets masked, in time linear in
//! the event's size.
//!
//! Repeated keys follow Python's `dict` (what Agently reads): the last value
//! wins. For the event's own fields and for the ids of its run and error,
//! only that last value is checked and used; an unknown top-level field
//! keeps the position of its first occurrence with its last value. Inside
//! the payload, meta, run and error the text is kept as written, repeated
//! keys included.
//!
//! Normalization: `event_id` defaults to a new time-ordered id, `timestamp`
//! (integer Unix milliseconds) to now, `source` to `"Agently"`, `level` to
//! `INFO` (any case accepted, stored upper-case); `meta.app_id` defaults to
//! the body's `app_id` or `"default"`, `meta.group_id` and
//! `meta.environment` to the body's when given (added at the end of the
//! meta object); `run.root_run_id` missing or null becomes `run.run_id`;
//! the run's and the error's other fields that are missing are added at
//! their end with Agently's defaults (`null`, or `{}` for `meta` and
//! `details`), as Agently's models write them.
//! The event is written with its known fields in Agently's order, then the
//! unknown ones; JSON spread over several lines is put on one line, so each
//! stored event is one JSONL line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::event::{now_millis, EventId, JsonMap, Level};
use crate::run::RunContext;

use super::compact::{needs_compaction, MAX_DICT_ITEMS, MAX_STRING_CHARS};
use super::ingest::{
    optional_string, push_json_str, raw_type, Defaults, Entries, NewEvent, RUN_META_KEYS,
};
use super::scrub::{Scrubber, MAX_NESTING};

/// What is wrong with one event: its field path, error type and message.
pub(crate) type EventFault = (String, &'static str, String);

pub(crate) fn fault(field: &str, kind: &'static str, msg: impl Into<String>) -> EventFault {
    (field.to_owned(), kind, msg.into())
}

/// The event's own fields, in the order they are written.
pub(crate) const FIELDS: [&str; 10] = [
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
/// Agently's RunContext fields.
pub(crate) const RUN_FIELDS: [&str; 10] = [
    "run_id",
    "run_kind",
    "root_run_id",
    "parent_run_id",
    "agent_id",
    "agent_name",
    "session_id",
    "response_id",
    "execution_id",
    "meta",
];
/// The paths of the run's id fields (the first nine [`RUN_FIELDS`]) in
/// error messages.
const RUN_ID_PATHS: [&str; 9] = [
    "run.run_id",
    "run.run_kind",
    "run.root_run_id",
    "run.parent_run_id",
    "run.agent_id",
    "run.agent_name",
    "run.session_id",
    "run.response_id",
    "run.execution_id",
];
/// Agently's ErrorInfo fields.
pub(crate) const ERROR_FIELDS: [&str; 8] = [
    "type",
    "message",
    "module",
    "traceback",
    "retryable",
    "fatal",
    "code",
    "details",
];

/// An object's entries split into the last value of each named key and the
/// other keys (first position, last value), in one pass (a hash map finds
/// repeated keys).
struct Split<'a, const N: usize> {
    known: [Option<&'a RawValue>; N],
    other: Vec<(Cow<'a, str>, &'a RawValue)>,
}

fn split<'a, const N: usize>(
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
    names: &[&str; N],
) -> Split<'a, N> {
    let mut known = [None; N];
    let mut other: Vec<(Cow<'a, str>, &'a RawValue)> = Vec::new();
    let mut seen: HashMap<Cow<'a, str>, usize> = HashMap::new();
    for (key, value) in fields {
        if let Some(i) = names.iter().position(|name| *name == key) {
            known[i] = Some(value);
            continue;
        }
        match seen.get(&key) {
            Some(&at) => other[at].1 = value,
            None => {
                seen.insert(key.clone(), other.len());
                other.push((key, value));
            }
        }
    }
    Split { known, other }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The last value of each named key of an object's entries.
fn last_values<'a, const N: usize>(
    fields: &[(Cow<'a, str>, &'a RawValue)],
    names: &[&str; N],
) -> [Option<&'a RawValue>; N] {
    let mut known = [None; N];
    for (key, value) in fields {
        if let Some(i) = names.iter().position(|name| *name == key) {
            known[i] = Some(*value);
        }
    }
    known
}

/// An object's entries from its JSON text.
fn entries_of(text: &str) -> Option<Entries<'_>> {
    text.starts_with('{')
        .then(|| serde_json::from_str(text).ok())
        .flatten()
}

/// A string or null, with a message naming the field otherwise.
fn string_field<'a>(raw: &'a RawValue, field: &str) -> Result<Option<Cow<'a, str>>, EventFault> {
    optional_string(raw).map_err(|found| {
        if raw.get().starts_with('"') {
            fault(
                field,
                "string_unicode",
                format!(
                    "event field `{field}` is not valid Unicode: it holds a lone surrogate (a \
                     \\ud800-\\udfff escape without its pair); send the text as UTF-8"
                ),
            )
        } else {
            fault(
                field,
                "string_type",
                format!("event field `{field}` must be a string, found {found}"),
            )
        }
    })
}

fn optional_field<'a>(
    raw: Option<&'a RawValue>,
    field: &str,
) -> Result<Option<Cow<'a, str>>, EventFault> {
    match raw {
        Some(raw) => string_field(raw, field),
        None => Ok(None),
    }
}

fn too_deep(field: &str) -> EventFault {
    fault(
        field,
        "too_deep",
        format!(
            "event field `{field}` is nested deeper than {MAX_NESTING} objects and arrays (the \
             event counted), more than JSON readers such as serde_json take back; send flatter \
             JSON"
        ),
    )
}

/// Normalizes one event (see the module docs).
pub(crate) fn parse_event(
    fields: Entries<'_>,
    defaults: &Defaults<'_>,
    scrubber: &Scrubber<'_>,
) -> Result<NewEvent, EventFault> {
    let Split { known, other } = split(fields.0, &FIELDS);
    let [event_id, event_type, source, level, message, payload, error, run, meta, timestamp] =
        known;
    let event_type = match optional_field(event_type, "event_type")? {
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
    let level = match optional_field(level, "level")? {
        None => Level::Info,
        Some(text) => text.parse().map_err(|e: crate::ParseLevelError| {
            fault(
                "level",
                "literal_error",
                format!("event field `level`: {e}"),
            )
        })?,
    };
    let timestamp = match timestamp {
        Some(raw) => parse_timestamp(raw)?,
        None => None,
    }
    .unwrap_or_else(now_millis);
    let event_id = match optional_field(event_id, "event_id")? {
        Some(id) if !id.is_empty() => id.into_owned(),
        _ => EventId::at_millis(timestamp).to_string(),
    };
    let source = optional_field(source, "source")?
        .map_or_else(|| crate::DEFAULT_SOURCE.to_owned(), Cow::into_owned);
    let message = optional_field(message, "message")?.map(Cow::into_owned);

    let payload = match payload {
        Some(raw) => scrubber
            .scrub(raw.get(), 1, &[])
            .map_err(|_| too_deep("payload"))?,
        None => Cow::Borrowed("null"),
    };
    let error = match error.filter(|raw| !is_null(raw)) {
        Some(raw) => Some(parse_error(raw, scrubber)?),
        None => None,
    };
    let (run, run_text) = match run.filter(|raw| !is_null(raw)) {
        Some(raw) => {
            let (run, text) = parse_run(raw, scrubber)?;
            (Some(run), Some(text))
        }
        None => (None, None),
    };
    let meta = parse_meta(meta.filter(|raw| !is_null(raw)), defaults, scrubber)?;
    let mut extra = Vec::with_capacity(other.len());
    for (key, raw) in &other {
        let scrubbed = scrubber
            .scrub(raw.get(), 1, &[])
            .map_err(|_| too_deep(key))?;
        let class = scrubber.class(key);
        extra.push(if scrubber.masks(class, raw.get()) {
            Cow::Borrowed(scrubber.mask_text())
        } else {
            scrubbed
        });
    }

    let compact = needs_compaction(&payload)
        || error.as_deref().is_some_and(needs_compaction)
        || run_text.as_deref().is_some_and(needs_compaction)
        || needs_compaction(&meta.text)
        || message
            .as_deref()
            .is_some_and(|m| m.len() > MAX_STRING_CHARS && m.chars().count() > MAX_STRING_CHARS)
        || other.len() > MAX_DICT_ITEMS
        || extra.iter().any(|text| needs_compaction(text));

    let size = payload.len()
        + meta.text.len()
        + run_text.as_ref().map_or(0, |text| text.len())
        + error.as_ref().map_or(0, String::len)
        + other
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum::<usize>();
    let mut json = String::with_capacity(256 + size);
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
    json.push_str(&payload);
    json.push_str(",\"error\":");
    json.push_str(error.as_deref().unwrap_or("null"));
    json.push_str(",\"run\":");
    json.push_str(run_text.as_deref().unwrap_or("null"));
    json.push_str(",\"meta\":");
    json.push_str(&meta.text);
    json.push_str(",\"timestamp\":");
    let _ = write!(json, "{timestamp}");
    for ((key, _), value) in other.iter().zip(&extra) {
        json.push(',');
        push_json_str(&mut json, key);
        json.push(':');
        json.push_str(value);
    }
    json.push('}');

    let string_of = |key: &str| {
        meta.run_meta
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    };
    Ok(NewEvent {
        event_id,
        event_type,
        source,
        level,
        message,
        timestamp,
        run,
        app_id: string_of("app_id"),
        group_id: string_of("group_id"),
        run_meta: meta.run_meta,
        compact,
        json,
    })
}

/// The event's meta as written (secrets masked), with the body defaults it
/// lacks added at its end, and its [`RUN_META_KEYS`] values.
struct Meta {
    text: String,
    run_meta: Vec<(&'static str, Value)>,
}

fn parse_meta(
    raw: Option<&RawValue>,
    defaults: &Defaults<'_>,
    scrubber: &Scrubber<'_>,
) -> Result<Meta, EventFault> {
    let mut run_meta: Vec<(&'static str, Value)> = Vec::with_capacity(RUN_META_KEYS.len());
    let mut has = [false; 3];
    let mut text = String::new();
    let mut empty = true;
    if let Some(raw) = raw.filter(|raw| raw.get() != "{}") {
        if !raw.get().starts_with('{') {
            return Err(fault(
                "meta",
                "dict_type",
                format!(
                    "event field `meta` must be a JSON object, found {}",
                    raw_type(raw)
                ),
            ));
        }
        let scrubbed = scrubber
            .scrub(raw.get(), 1, &[])
            .map_err(|_| too_deep("meta"))?;
        let fields = entries_of(&scrubbed).map_or_else(Vec::new, |e| e.0);
        empty = fields.is_empty();
        for (key, value) in &fields {
            if let Some(i) = RUN_META_KEYS.iter().position(|k| k == key) {
                has[i] = true;
                let parsed: Value = serde_json::from_str(value.get()).unwrap_or(Value::Null);
                run_meta.retain(|(k, _)| *k != RUN_META_KEYS[i]);
                run_meta.push((RUN_META_KEYS[i], parsed));
            }
        }
        drop(fields);
        text = scrubbed.into_owned();
    }
    let default_app = defaults.app_id.as_deref().unwrap_or("default");
    let mut additions = String::with_capacity(64);
    for (i, default) in [
        Some(default_app),
        defaults.group_id.as_deref(),
        defaults.environment.as_deref(),
    ]
    .into_iter()
    .enumerate()
    {
        if let (false, Some(value)) = (has[i], default) {
            additions.push(',');
            push_json_str(&mut additions, RUN_META_KEYS[i]);
            additions.push(':');
            push_json_str(&mut additions, value);
            run_meta.push((RUN_META_KEYS[i], Value::String(value.to_owned())));
        }
    }
    if empty {
        additions.replace_range(..additions.len().min(1), "{");
        additions.push('}');
        text = additions;
    } else if !additions.is_empty() {
        // Before the object's closing brace (the text ends with it).
        text.pop();
        text.push_str(&additions);
        text.push('}');
    }
    Ok(Meta { text, run_meta })
}

/// The text of the object at event field `field` (`expected` names what
/// it must be), with secrets masked (its own `fields` names kept).
fn scrubbed_object<'a>(
    raw: &'a RawValue,
    scrubber: &Scrubber<'_>,
    field: &str,
    expected: &str,
    fields: &[&str],
) -> Result<Cow<'a, str>, EventFault> {
    if !raw.get().starts_with('{') {
        return Err(fault(
            field,
            "model_attributes_type",
            format!(
                "event field `{field}` must be {expected}, found {}",
                raw_type(raw)
            ),
        ));
    }
    scrubber
        .scrub(raw.get(), 1, fields)
        .map_err(|_| too_deep(field))
}

/// Checks Agently's RunContext (`run_id` and `run_kind` required strings,
/// the other ids optional strings, `meta` an object) and returns it with
/// the run's text as written, unknown keys kept, `root_run_id` filled.
fn parse_run<'a>(
    raw: &'a RawValue,
    scrubber: &Scrubber<'_>,
) -> Result<(RunContext, Cow<'a, str>), EventFault> {
    let scrubbed = scrubbed_object(raw, scrubber, "run", "a JSON object", &RUN_FIELDS)?;
    let fields = entries_of(&scrubbed).map_or_else(Vec::new, |e| e.0);
    let known = last_values(&fields, &RUN_FIELDS);
    let mut ids: [Option<String>; 9] = Default::default();
    for ((id, raw), path) in ids.iter_mut().zip(known).zip(RUN_ID_PATHS) {
        *id = optional_field(raw, path)?.map(Cow::into_owned);
    }
    let meta: JsonMap = match known[9].filter(|raw| !is_null(raw) && raw.get() != "{}") {
        None => JsonMap::new(),
        Some(raw) if raw.get().starts_with('{') => serde_json::from_str(raw.get())
            .map_err(|e| fault("run.meta", "dict_type", e.to_string()))?,
        Some(raw) => {
            return Err(fault(
                "run.meta",
                "dict_type",
                format!(
                    "event field `run.meta` must be a JSON object, found {}",
                    raw_type(raw)
                ),
            ))
        }
    };
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
    let absent: [bool; 10] = known.map(|raw| raw.is_none());
    let mut text = if !absent[2] && root_run_id.is_none() {
        // A null root: written again with the run id in its place.
        let mut text = String::with_capacity(scrubbed.len() + run_id.len());
        text.push('{');
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            push_json_str(&mut text, key);
            text.push(':');
            if key == "root_run_id" && is_null(value) {
                push_json_str(&mut text, &run_id);
            } else {
                text.push_str(value.get());
            }
        }
        text.push('}');
        Cow::Owned(text)
    } else {
        drop(fields);
        scrubbed
    };
    if absent.contains(&true) {
        let mut root = String::new();
        push_json_str(&mut root, &run_id);
        let absent = RUN_FIELDS
            .iter()
            .zip(absent)
            .filter(|(_, absent)| *absent)
            .map(|(name, _)| match *name {
                "root_run_id" => (*name, root.as_str()),
                "meta" => (*name, "{}"),
                _ => (*name, "null"),
            });
        add_fields(text.to_mut(), absent);
    }
    Ok((
        RunContext {
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
        },
        text,
    ))
}

/// Checks Agently's ErrorInfo (`type` and `message` required strings,
/// `module`, `traceback`, `code` optional strings, `retryable` and `fatal`
/// optional booleans, `details` an object) and returns its text as written,
/// unknown keys kept.
fn parse_error(raw: &RawValue, scrubber: &Scrubber<'_>) -> Result<String, EventFault> {
    let scrubbed = scrubbed_object(
        raw,
        scrubber,
        "error",
        "a JSON object or null",
        &ERROR_FIELDS,
    )?;
    let fields = entries_of(&scrubbed).map_or_else(Vec::new, |e| e.0);
    let known = last_values(&fields, &ERROR_FIELDS);
    for i in [0, 1, 2, 3, 6] {
        let field = format!("error.{}", ERROR_FIELDS[i]);
        if optional_field(known[i], &field)?.is_none() && i < 2 {
            return Err(fault(
                &field,
                "missing",
                format!("event field `{field}` is required but missing or null"),
            ));
        }
    }
    for i in [4, 5] {
        if let Some(raw) = known[i].filter(|raw| !matches!(raw.get(), "true" | "false" | "null")) {
            let field = format!("error.{}", ERROR_FIELDS[i]);
            return Err(fault(
                &field,
                "bool_type",
                format!(
                    "event field `{field}` must be a boolean or null, found {}",
                    raw_type(raw)
                ),
            ));
        }
    }
    if let Some(raw) = known[7].filter(|raw| !is_null(raw) && !raw.get().starts_with('{')) {
        return Err(fault(
            "error.details",
            "dict_type",
            format!(
                "event field `error.details` must be a JSON object, found {}",
                raw_type(raw)
            ),
        ));
    }
    let absent: Vec<(&str, &str)> = ERROR_FIELDS
        .iter()
        .zip(known)
        .filter(|(_, raw)| raw.is_none())
        .map(|(name, _)| (*name, if *name == "details" { "{}" } else { "null" }))
        .collect();
    drop(fields);
    let mut text = scrubbed.into_owned();
    add_fields(&mut text, absent);
    Ok(text)
}

/// Adds fields (names and JSON texts) at the end of an object's text (which
/// ends with its closing brace and holds at least one field): Agently's
/// models write every field, with its default when absent.
fn add_fields<'n>(text: &mut String, fields: impl IntoIterator<Item = (&'n str, &'n str)>) {
    let mut fields = fields.into_iter().peekable();
    if fields.peek().is_none() || !text.ends_with('}') {
        return;
    }
    text.pop();
    for (name, value) in fields {
        text.push(',');
        push_json_str(text, name);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
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

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
