//! `EventError`, what is wrong with an event given as JSON, and the readers
//! of JSON fields that produce it.

use std::error::Error as StdError;
use std::fmt;

use serde_json::Value;

use super::*;

/// Bad input where an event (or its error or run) was expected: names the
/// field and says what was wrong.
///
/// ```
/// use event_center::{Event, EventErrorKind};
/// use serde_json::json;
///
/// let err = Event::from_json(json!({"event_type": "x", "run": {"run_kind": "agent"}})).unwrap_err();
/// assert_eq!(err.field(), "run.run_id");
/// assert!(matches!(err.kind(), EventErrorKind::Missing));
/// assert!(err.to_string().contains("run.run_id"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    field: String,
    kind: EventErrorKind,
}

/// What was wrong with a field; see [`EventError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventErrorKind {
    /// A required field is absent or null.
    Missing,
    /// A required string is empty.
    Empty,
    /// The field holds the wrong JSON type.
    WrongType {
        /// What the field must hold.
        expected: &'static str,
        /// The JSON type it held.
        found: &'static str,
    },
    /// `level` names no level.
    UnknownLevel(String),
    /// The text is not JSON at all.
    InvalidJson(String),
}

impl EventError {
    pub(super) fn new(field: impl Into<String>, kind: EventErrorKind) -> Self {
        EventError {
            field: field.into(),
            kind,
        }
    }

    pub(crate) fn missing_field(field: impl Into<String>) -> Self {
        Self::new(field, EventErrorKind::Missing)
    }

    pub(super) fn wrong_type(
        field: impl Into<String>,
        expected: &'static str,
        found: &Value,
    ) -> Self {
        Self::new(
            field,
            EventErrorKind::WrongType {
                expected,
                found: json_type_name(found),
            },
        )
    }

    pub(crate) fn invalid_json(error: serde_json::Error) -> Self {
        Self::new("event", EventErrorKind::InvalidJson(error.to_string()))
    }

    /// The dotted path of the bad field (`event_type`, `run.run_id`,
    /// `error.retryable`), or `event` for the whole value.
    ///
    /// ```
    /// let err = event_center::Event::from_json(serde_json::json!({"event_type": 7})).unwrap_err();
    /// assert_eq!(err.field(), "event_type");
    /// ```
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong with it.
    ///
    /// ```
    /// use event_center::{Event, EventErrorKind};
    /// let err = Event::from_json(serde_json::json!({})).unwrap_err();
    /// assert_eq!(err.kind(), &EventErrorKind::Missing);
    /// ```
    pub fn kind(&self) -> &EventErrorKind {
        &self.kind
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.kind {
            EventErrorKind::Missing => write!(f, "event field `{field}` is required but missing or null"),
            EventErrorKind::Empty => write!(f, "event field `{field}` must not be empty"),
            EventErrorKind::WrongType { expected, found } => {
                write!(f, "event field `{field}` must be {expected}, found {found}")
            }
            EventErrorKind::UnknownLevel(text) => write!(
                f,
                "event field `{field}` is {text:?}: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
            ),
            EventErrorKind::InvalidJson(why) => write!(f, "the event is not valid JSON: {why}"),
        }
    }
}

impl StdError for EventError {}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn into_object(value: Value, path: &str) -> Result<JsonMap, EventError> {
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(EventError::wrong_type(path, "a JSON object", &other)),
    }
}

pub(crate) fn take_string(
    obj: &mut JsonMap,
    key: &str,
    path: &str,
) -> Result<Option<String>, EventError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(EventError::wrong_type(path, "a string", &other)),
    }
}

pub(super) fn take_bool(
    obj: &mut JsonMap,
    key: &str,
    path: &str,
) -> Result<Option<bool>, EventError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(other) => Err(EventError::wrong_type(path, "a boolean", &other)),
    }
}

pub(crate) fn take_object(
    obj: &mut JsonMap,
    key: &str,
    path: &str,
) -> Result<Option<JsonMap>, EventError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(EventError::wrong_type(path, "a JSON object", &other)),
    }
}
