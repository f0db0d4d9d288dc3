//! The event: Agently's ObservationEvent, its JSON, and the typed errors of bad input.

mod error;
mod error_info;
mod id;
mod level;

pub(crate) use error::{into_object, take_object, take_string};
pub use error::{EventError, EventErrorKind};
pub use error_info::ErrorInfo;
pub(crate) use id::now_millis;
pub use id::EventId;
pub use level::{Level, ParseLevelError};

use std::sync::{Arc, OnceLock};

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::run::RunContext;
use crate::text::SharedStr;

/// The source stamped on an event that names none, as Agently's own default.
pub const DEFAULT_SOURCE: &str = "Agently";

/// A JSON object, as used for `meta`, `details` and run meta.
pub type JsonMap = Map<String, Value>;

/// The shared empty meta object: events with no meta share one allocation.
pub(crate) fn empty_meta() -> Arc<JsonMap> {
    static EMPTY: OnceLock<Arc<JsonMap>> = OnceLock::new();
    EMPTY.get_or_init(|| Arc::new(JsonMap::new())).clone()
}

/// One observation: something that happened in an agent run.
///
/// The fields and their JSON are Agently's ObservationEvent, so events
/// serialize to what Agently's clients and DevTools read, and Agently's
/// events parse into this type. Unknown top-level fields are kept in
/// [`extra`](Event::extra) and written back out. Hooks receive events behind
/// an `Arc`, allocated once per event.
///
/// ```
/// use event_center::{Event, Level};
/// use serde_json::json;
///
/// let event = Event::new("model.completed")
///     .with_source("Planner")
///     .with_level(Level::Warning)
///     .with_payload(json!({"tokens": 42}));
/// let wire = serde_json::to_value(&event).unwrap();
/// assert_eq!(wire["event_type"], "model.completed");
/// assert_eq!(wire["level"], "WARNING");
/// assert_eq!(wire["run"], serde_json::Value::Null);
///
/// let back: Event = serde_json::from_value(wire.clone()).unwrap();
/// assert_eq!(serde_json::to_value(&back).unwrap(), wire);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The event's id.
    pub event_id: EventId,
    /// The dotted event type, such as `action.loop_started`.
    pub event_type: SharedStr,
    /// Who emitted it (a component or framework name).
    pub source: SharedStr,
    /// How serious it is.
    pub level: Level,
    /// A human-readable message.
    pub message: Option<SharedStr>,
    /// Any JSON; `null` when absent.
    pub payload: Value,
    /// What went wrong, for failure events.
    pub error: Option<Box<ErrorInfo>>,
    /// The run this event belongs to.
    pub run: Option<Arc<RunContext>>,
    /// Free-form metadata (a JSON object), shared with the emitter's base meta
    /// when the event adds none.
    pub meta: Arc<JsonMap>,
    /// When it happened: Unix milliseconds, UTC.
    pub timestamp: i64,
    /// Position in the emitting center's total order, strictly increasing per
    /// center; `0` for an event that no center has accepted yet. Serialized
    /// only when set (an extension field; other consumers ignore it).
    pub seq: u64,
    /// Unknown top-level fields, kept and written back out.
    pub extra: JsonMap,
}

/// An event is a view of itself, so APIs that read events (transcripts, for
/// one) take `Event`s, `&Event`s and `Arc<Event>`s alike.
impl AsRef<Event> for Event {
    fn as_ref(&self) -> &Event {
        self
    }
}

impl Event {
    /// An event of the given type with every other field at its default: a
    /// new id, source `"Agently"`, level INFO, the current time.
    ///
    /// ```
    /// let event = event_center::Event::new("session.activated");
    /// assert_eq!(event.source, "Agently");
    /// assert_eq!(event.level, event_center::Level::Info);
    /// ```
    pub fn new(event_type: impl Into<SharedStr>) -> Self {
        let timestamp = now_millis();
        Event {
            event_id: EventId::at_millis(timestamp),
            event_type: event_type.into(),
            source: SharedStr::from_static(DEFAULT_SOURCE),
            level: Level::Info,
            message: None,
            payload: Value::Null,
            error: None,
            run: None,
            meta: empty_meta(),
            timestamp,
            seq: 0,
            extra: JsonMap::new(),
        }
    }

    /// Sets `source`.
    pub fn with_source(mut self, source: impl Into<SharedStr>) -> Self {
        self.source = source.into();
        self
    }

    /// Sets `level`.
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Sets `message`.
    pub fn with_message(mut self, message: impl Into<SharedStr>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets `payload`.
    pub fn with_payload(mut self, payload: impl Into<Value>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets `error`.
    pub fn with_error(mut self, error: ErrorInfo) -> Self {
        self.error = Some(Box::new(error));
        self
    }

    /// Sets `run`.
    pub fn with_run(mut self, run: impl Into<Arc<RunContext>>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// Adds one entry to `meta`.
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        Arc::make_mut(&mut self.meta).insert(key.into(), value.into());
        self
    }

    /// Sets `timestamp` (Unix milliseconds).
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Reads an Agently-shaped JSON object (the "dict emit" shape).
    ///
    /// Only `event_type` is required; every other field takes its default. A
    /// field of the wrong type, an unknown level or a missing `event_type` is
    /// an [`EventError`] naming the field.
    ///
    /// ```
    /// use event_center::Event;
    /// use serde_json::json;
    ///
    /// let event = Event::from_json(json!({"event_type": "tool.called", "level": "DEBUG"})).unwrap();
    /// assert_eq!(event.event_type, "tool.called");
    ///
    /// let err = Event::from_json(json!({"event_type": "x", "timestamp": "soon"})).unwrap_err();
    /// assert_eq!(err.field(), "timestamp");
    /// ```
    pub fn from_json(value: Value) -> Result<Self, EventError> {
        let mut obj = into_object(value, "event")?;
        let event_type = match take_string(&mut obj, "event_type", "event_type")? {
            Some(t) if !t.is_empty() => SharedStr::from(t),
            Some(_) => return Err(EventError::new("event_type", EventErrorKind::Empty)),
            None => return Err(EventError::missing_field("event_type")),
        };
        let timestamp = match obj.remove("timestamp") {
            None | Some(Value::Null) => now_millis(),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| {
                    EventError::wrong_type(
                        "timestamp",
                        "integer Unix milliseconds",
                        &Value::Number(n),
                    )
                })?,
            Some(other) => {
                return Err(EventError::wrong_type(
                    "timestamp",
                    "integer Unix milliseconds",
                    &other,
                ))
            }
        };
        let event_id = match take_string(&mut obj, "event_id", "event_id")? {
            Some(id) if !id.is_empty() => EventId::parse(&id),
            _ => EventId::at_millis(timestamp),
        };
        let source = take_string(&mut obj, "source", "source")?
            .filter(|s| !s.is_empty())
            .map_or(SharedStr::from_static(DEFAULT_SOURCE), SharedStr::from);
        let level = match take_string(&mut obj, "level", "level")? {
            None => Level::Info,
            Some(text) => text
                .parse()
                .map_err(|_| EventError::new("level", EventErrorKind::UnknownLevel(text)))?,
        };
        let message = take_string(&mut obj, "message", "message")?.map(SharedStr::from);
        let payload = obj.remove("payload").unwrap_or(Value::Null);
        let error = match obj.remove("error") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Box::new(ErrorInfo::from_json(v, "error")?)),
        };
        let run = match obj.remove("run") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Arc::new(RunContext::from_json(v, "run")?)),
        };
        let meta = take_object(&mut obj, "meta", "meta")?.map_or_else(empty_meta, Arc::new);
        let seq = match obj.remove("seq") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| EventError::wrong_type("seq", "unsigned integer", &v))?,
        };
        Ok(Event {
            event_id,
            event_type,
            source,
            level,
            message,
            payload,
            error,
            run,
            meta,
            timestamp,
            seq,
            extra: obj,
        })
    }

    /// Parses one event from JSON text (a JSONL line, a request body).
    ///
    /// ```
    /// let event = event_center::Event::parse(r#"{"event_type": "a.b", "payload": [1]}"#).unwrap();
    /// assert_eq!(event.payload[0], 1);
    /// let err = event_center::Event::parse("{not json").unwrap_err();
    /// assert_eq!(err.field(), "event");
    /// ```
    pub fn parse(text: &str) -> Result<Self, EventError> {
        let value: Value = serde_json::from_str(text).map_err(EventError::invalid_json)?;
        Event::from_json(value)
    }

    /// Whether this is a compatibility twin (an `action.*` event mirrored as
    /// `tool.*`): sinks that want each occurrence once drop these.
    ///
    /// ```
    /// let e = event_center::Event::new("tool.loop_started").with_meta("compat_event_alias", true);
    /// assert!(e.is_compat_twin());
    /// ```
    pub fn is_compat_twin(&self) -> bool {
        self.meta.get("compat_event_alias") == Some(&Value::Bool(true))
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 10 + usize::from(self.seq != 0) + self.extra.len();
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("event_id", &self.event_id)?;
        map.serialize_entry("event_type", &self.event_type)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("level", &self.level)?;
        map.serialize_entry("message", &self.message)?;
        map.serialize_entry("payload", &self.payload)?;
        map.serialize_entry("error", &self.error)?;
        map.serialize_entry("run", &self.run)?;
        map.serialize_entry("meta", &*self.meta)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        if self.seq != 0 {
            map.serialize_entry("seq", &self.seq)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Event::from_json(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
