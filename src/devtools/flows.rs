//! Flow definitions (TriggerFlow graphs and their Mermaid diagrams) as
//! Agently DevTools keeps them: registered by `POST /observation/flows/register`
//! or captured from ingested `triggerflow.definition_declared` events (and
//! the `workflow.` spelling that aliases it), resolved by
//! `GET /observation/flows/resolve`.
//!
//! A definition is keyed by app (blank: `"default"`), group (blank: none)
//! and flow name, all trimmed; resolving falls back from the group's
//! definition to the app-level one. The answer is Agently's payload
//! `{app_id, group_id, flow_name, definition, registered_at, mermaid?}`,
//! stored as that JSON text in the `flows` table (the group as `''` for
//! none). Unlike Agently's in-memory registry, definitions survive a
//! restart, and retention never deletes them.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::ServerError;
use super::ingest::{
    entries, one_line, optional_string, push_json_str, raw_type, Element, FieldError, Loc, NewEvent,
};
use super::query::type_aliases;

/// The event type whose payload declares a flow.
const DECLARED: &str = "triggerflow.definition_declared";

/// Python's `str.strip()`: Unicode whitespace and the four separators
/// Python also counts as space.
fn strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// A definition's normalized key.
pub(crate) struct FlowKey {
    app_id: String,
    group_id: Option<String>,
    flow_name: String,
}

impl FlowKey {
    /// Agently's normalization; `None` when the flow name is blank.
    pub(crate) fn new(
        app_id: Option<&str>,
        group_id: Option<&str>,
        flow_name: &str,
    ) -> Option<Self> {
        let flow_name = strip(flow_name);
        if flow_name.is_empty() {
            return None;
        }
        let app_id = match app_id.map(strip) {
            Some(app) if !app.is_empty() => app,
            _ => "default",
        };
        Some(FlowKey {
            app_id: app_id.to_owned(),
            group_id: group_id
                .map(strip)
                .filter(|group| !group.is_empty())
                .map(str::to_owned),
            flow_name: flow_name.to_owned(),
        })
    }
}

/// A definition to store: its key, the definition object and the Mermaid
/// diagrams as JSON text.
pub(crate) struct Flow {
    key: FlowKey,
    definition: String,
    mermaid: Option<String>,
}

impl Flow {
    /// Agently's payload, as JSON text.
    fn payload(&self, registered_at: i64) -> String {
        let mut json = String::with_capacity(96 + self.definition.len());
        json.push_str("{\"app_id\":");
        push_json_str(&mut json, &self.key.app_id);
        json.push_str(",\"group_id\":");
        match &self.key.group_id {
            Some(group) => push_json_str(&mut json, group),
            None => json.push_str("null"),
        }
        json.push_str(",\"flow_name\":");
        push_json_str(&mut json, &self.key.flow_name);
        json.push_str(",\"definition\":");
        json.push_str(&self.definition);
        json.push_str(",\"registered_at\":");
        json.push_str(&registered_at.to_string());
        if let Some(mermaid) = &self.mermaid {
            json.push_str(",\"mermaid\":");
            json.push_str(mermaid);
        }
        json.push('}');
        json
    }
}

/// Stores (or replaces) a definition; returns its payload.
pub(crate) fn save(conn: &Connection, flow: &Flow, registered_at: i64) -> rusqlite::Result<String> {
    let payload = flow.payload(registered_at);
    conn.prepare_cached(
        "INSERT INTO flows (app_id, group_id, flow_name, payload) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (app_id, group_id, flow_name) DO UPDATE SET payload = excluded.payload",
    )?
    .execute(params![
        flow.key.app_id,
        flow.key.group_id.as_deref().unwrap_or(""),
        flow.key.flow_name,
        payload,
    ])?;
    Ok(payload)
}

/// The payload of the group's definition, else of the app-level one.
pub(crate) fn resolve(conn: &Connection, key: &FlowKey) -> Result<Option<String>, ServerError> {
    let group = key.group_id.as_deref().unwrap_or("");
    Ok(conn
        .prepare_cached(
            "SELECT payload FROM flows WHERE app_id = ?1 AND flow_name = ?2 \
             AND group_id IN (?3, '') ORDER BY group_id = ?3 DESC LIMIT 1",
        )?
        .query_row(params![key.app_id, key.flow_name, group], |row| row.get(0))
        .optional()?)
}

/// The flows the events of a batch declare, by `event_id` (the first
/// event with an id counts, as only it is stored). Read before the batch
/// reaches the storage thread: a declared definition may be megabytes.
pub(crate) type Declared = HashMap<String, Flow>;

/// Reads the flows that events declare, as Agently's `capture_event` does;
/// events that declare no usable flow are skipped.
pub(crate) fn declared_in(events: &[NewEvent]) -> Declared {
    let mut found = Declared::new();
    for event in events {
        // Every spelling ends with the suffix: most events stop here,
        // before the alias table allocates anything.
        if !event.event_type.ends_with(".definition_declared")
            || !type_aliases(&event.event_type)
                .iter()
                .any(|t| t == DECLARED)
            || found.contains_key(&event.event_id)
        {
            continue;
        }
        if let Some(flow) = declared(event) {
            found.insert(event.event_id.clone(), flow);
        }
    }
    found
}

/// Registers the flows that newly stored events declare.
pub(crate) fn capture(
    conn: &Connection,
    events: &[NewEvent],
    declared: &Declared,
    registered_at: i64,
) -> rusqlite::Result<()> {
    if declared.is_empty() {
        return Ok(());
    }
    for event in events {
        if let Some(flow) = declared.get(&event.event_id) {
            save(conn, flow, registered_at)?;
        }
    }
    Ok(())
}

/// An object's entries with repeated keys merged as Python's `dict` does
/// (first position, last value), in time linear in their number (a hostile
/// payload may have hundreds of thousands).
fn merged<'a>(fields: Vec<(Cow<'a, str>, &'a RawValue)>) -> Vec<(String, &'a RawValue)> {
    let mut slots: HashMap<Cow<'a, str>, usize> = HashMap::with_capacity(fields.len());
    let mut out: Vec<(String, &RawValue)> = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        match slots.entry(key) {
            Entry::Occupied(slot) => out[*slot.get()].1 = value,
            Entry::Vacant(slot) => {
                out.push((slot.key().clone().into_owned(), value));
                slot.insert(out.len() - 1);
            }
        }
    }
    out
}

/// A JSON object's text from its entries.
fn object_text(fields: &[(String, &RawValue)]) -> String {
    let mut json = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        push_json_str(&mut json, key);
        json.push(':');
        json.push_str(&one_line(value.get()));
    }
    json.push('}');
    json
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The flow a `definition_declared` event declares: `payload.flow_name`
/// (else `run.meta.flow_name`), `payload.definition` (an object),
/// `payload.mermaid`'s non-blank strings; app and group from the event's
/// meta, else its run's.
fn declared(event: &NewEvent) -> Option<Flow> {
    #[derive(Deserialize)]
    struct Stored<'a> {
        #[serde(borrow)]
        payload: Option<&'a RawValue>,
    }
    let stored: Stored<'_> = serde_json::from_str(&event.json).ok()?;
    let payload = merged(entries(stored.payload?)?.0);
    let field = |name: &str| payload.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let run_meta = |name: &str| event.run.as_ref().and_then(|run| run.meta.get(name));

    let flow_name = field("flow_name")
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        .filter(|name| !name.is_empty())
        .or_else(|| {
            run_meta("flow_name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })?;
    let definition = field("definition").filter(|raw| raw.get().starts_with('{'))?;
    let mermaid = field("mermaid").and_then(entries).and_then(|diagrams| {
        let kept: Vec<(String, &RawValue)> = merged(diagrams.0)
            .into_iter()
            .filter(|(_, value)| {
                serde_json::from_str::<String>(value.get()).is_ok_and(|s| !strip(&s).is_empty())
            })
            .collect();
        (!kept.is_empty()).then(|| object_text(&kept))
    });
    let meta = |name: &str| {
        let own = event
            .run_meta
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
            .filter(|v| truthy(v));
        own.or_else(|| run_meta(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (app_id, group_id) = (meta("app_id"), meta("group_id"));
    Some(Flow {
        key: FlowKey::new(app_id.as_deref(), group_id.as_deref(), &flow_name)?,
        definition: one_line(definition.get()).into_owned(),
        mermaid,
    })
}

/// Reads a `POST /flows/register` body (Agently's
/// `FlowDefinitionRegistrationRequest`: `app_id`, `group_id` strings or
/// null, `flow_name` a non-blank string, `definition` an object, `mermaid`
/// an object of strings or null); every bad field is named.
pub(crate) fn parse_registration(body: &[u8]) -> Result<Flow, Vec<FieldError>> {
    let loc = |name: &str| vec![Loc::Key("body".to_owned()), Loc::Key(name.to_owned())];
    let whole = |kind, msg: String| {
        vec![FieldError::new(
            kind,
            vec![Loc::Key("body".to_owned())],
            msg,
        )]
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(whole(
            "missing",
            "the body is required: send a JSON object with `flow_name` and `definition`".to_owned(),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        whole(
            "json_invalid",
            format!("the body is not UTF-8 text ({e}); send JSON encoded as UTF-8"),
        )
    })?;
    let fields = match serde_json::from_str::<Element<'_>>(text) {
        Ok(Element::Object(fields)) => merged(fields.0),
        Ok(Element::Other(found)) => {
            return Err(whole(
                "model_attributes_type",
                format!(
                    "the body must be a JSON object like {{\"flow_name\": ..., \"definition\": {{...}}}}, found {found}"
                ),
            ))
        }
        Err(e) => return Err(whole("json_invalid", format!("the body is not valid JSON: {e}"))),
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let mut errors = Vec::new();

    let mut optional = |name: &str| match field(name).map(optional_string) {
        None => None,
        Some(Ok(value)) => value,
        Some(Err(found)) => {
            errors.push(FieldError::new(
                "string_type",
                loc(name),
                format!("`{name}` must be a string or null, found {found}"),
            ));
            None
        }
    };
    let app_id = optional("app_id");
    let group_id = optional("group_id");

    let flow_name = match field("flow_name") {
        None => {
            errors.push(FieldError::new(
                "missing",
                loc("flow_name"),
                "`flow_name` is required: the name of the flow being registered",
            ));
            None
        }
        Some(raw) => match serde_json::from_str::<String>(raw.get()) {
            Ok(name) => Some(name),
            Err(_) => {
                errors.push(FieldError::new(
                    "string_type",
                    loc("flow_name"),
                    format!("`flow_name` must be a string, found {}", raw_type(raw)),
                ));
                None
            }
        },
    };
    let key = flow_name.and_then(|name| {
        let key = FlowKey::new(app_id.as_deref(), group_id.as_deref(), &name);
        if key.is_none() {
            errors.push(FieldError::new(
                "string_too_short",
                loc("flow_name"),
                "`flow_name` must not be blank: give the flow's name",
            ));
        }
        key
    });

    let definition = match field("definition") {
        Some(raw) if raw.get().starts_with('{') => Some(one_line(raw.get()).into_owned()),
        Some(raw) => {
            errors.push(FieldError::new(
                "dict_type",
                loc("definition"),
                format!(
                    "`definition` must be a JSON object, found {}",
                    raw_type(raw)
                ),
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                "missing",
                loc("definition"),
                "`definition` is required: the flow's definition as a JSON object",
            ));
            None
        }
    };

    let mermaid = match field("mermaid") {
        Some(raw) if raw.get() != "null" => match entries(raw) {
            Some(diagrams) => {
                let diagrams = merged(diagrams.0);
                for (name, value) in &diagrams {
                    if !value.get().starts_with('"') {
                        let mut at = loc("mermaid");
                        at.push(Loc::Key(name.clone()));
                        errors.push(FieldError::new(
                            "string_type",
                            at,
                            format!(
                                "`mermaid.{name}` must be a string (a Mermaid diagram), found {}",
                                raw_type(value)
                            ),
                        ));
                    }
                }
                (!diagrams.is_empty()).then(|| object_text(&diagrams))
            }
            None => {
                errors.push(FieldError::new(
                    "dict_type",
                    loc("mermaid"),
                    format!(
                        "`mermaid` must be an object of diagram names to Mermaid text, or null; found {}",
                        raw_type(raw)
                    ),
                ));
                None
            }
        },
        _ => None,
    };

    match (key, definition) {
        (Some(key), Some(definition)) if errors.is_empty() => Ok(Flow {
            key,
            definition,
            mermaid,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalized_as_agently_does() {
        let key = FlowKey::new(Some("  "), Some(" g "), " f\u{1f}").unwrap();
        assert_eq!(
            (
                key.app_id.as_str(),
                key.group_id.as_deref(),
                key.flow_name.as_str()
            ),
            ("default", Some("g"), "f")
        );
        assert!(FlowKey::new(None, None, " \t").is_none());
        assert!(FlowKey::new(Some("a"), Some(""), "f")
            .unwrap()
            .group_id
            .is_none());
    }

    #[test]
    fn the_payload_keeps_the_definitions_text_and_omits_empty_mermaid() {
        let flow = parse_registration(
            br#"{"flow_name":"f","definition":{"z":1,"a":[1.50]},"mermaid":{},"extra":true}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(
            flow.payload(7),
            r#"{"app_id":"default","group_id":null,"flow_name":"f","definition":{"z":1,"a":[1.50]},"registered_at":7}"#
        );
    }

    #[test]
    fn repeated_keys_keep_their_first_place_and_last_value() {
        let flow = parse_registration(
            br#"{"flow_name":"f","definition":{},"mermaid":{"b":"1","a":"2","b":"3"}}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(flow.mermaid.as_deref(), Some(r#"{"b":"3","a":"2"}"#));
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = parse_registration(br#"{"app_id":3,"definition":[1],"mermaid":{"a":1}}"#)
            .err()
            .unwrap();
        let named: Vec<(&str, String)> = errors
            .iter()
            .map(|e| (e.kind, serde_json::to_string(&e.loc).unwrap()))
            .collect();
        assert_eq!(
            named,
            [
                ("string_type", r#"["body","app_id"]"#.to_owned()),
                ("missing", r#"["body","flow_name"]"#.to_owned()),
                ("dict_type", r#"["body","definition"]"#.to_owned()),
                ("string_type", r#"["body","mermaid","a"]"#.to_owned()),
            ]
        );
    }
}
