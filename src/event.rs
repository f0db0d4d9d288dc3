//! The event: Agently's ObservationEvent, its JSON, and the typed errors of bad input.

use std::cell::Cell;
use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Unix time in milliseconds.
///
/// The system clock is read every 100 ms per thread; in between, the time is
/// the last reading plus the time elapsed on the CPU's timestamp counter
/// (through `quanta`, which falls back to the OS clock where the counter is
/// not reliable). That keeps millisecond precision at a fraction of a
/// `clock_gettime` call per event. The period bounds how far an error in the
/// counter's measured frequency can carry the time away from the system
/// clock: with a whole second between readings, a test on a busy virtual
/// machine saw a timestamp 2 ms behind it.
pub(crate) fn now_millis() -> i64 {
    /// How often each thread reads the system clock.
    const ANCHOR_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);
    /// `(counter reading, wall-clock ms, ns past that ms)` at the last anchor.
    type Anchor = Option<(quanta::Instant, i64, u64)>;
    thread_local! {
        static ANCHOR: Cell<Anchor> = const { Cell::new(None) };
    }
    ANCHOR.with(|anchor| {
        let now = quanta::Instant::now();
        if let Some((at, millis, nanos)) = anchor.get() {
            let elapsed = now.saturating_duration_since(at);
            if elapsed < ANCHOR_PERIOD {
                let past = nanos + u64::from(elapsed.subsec_nanos());
                return millis + (past / 1_000_000) as i64;
            }
        }
        let wall = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d,
            Err(_) => std::time::Duration::ZERO,
        };
        let millis = wall.as_millis() as i64;
        anchor.set(Some((
            now,
            millis,
            u64::from(wall.subsec_nanos() % 1_000_000),
        )));
        millis
    })
}

/// A fast per-thread pseudo-random source (wyrand), seeded from the standard
/// library's randomly keyed hasher. Good for id uniqueness, not for secrets.
pub(crate) fn fast_random() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    fn seed() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now_millis() as u64);
        h.write_usize(&h as *const _ as usize);
        h.finish()
    }
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) ^ t) as u64
    })
}

/// An event's id: 32 lowercase hex characters on the wire.
///
/// Generated ids are UUIDv7 (time-ordered, from the event's own millisecond
/// and a fast thread-local random source) kept as a `u128` and formatted only
/// when serialized. Ids that arrive from elsewhere in any other shape (an
/// ingest batch may say `"ev-0001"`) are kept verbatim.
///
/// ```
/// use event_center::EventId;
///
/// let id = EventId::new();
/// let text = id.to_string();
/// assert_eq!(text.len(), 32);
/// assert_eq!(EventId::parse(&text), id);
/// assert_eq!(EventId::parse("ev-0001").to_string(), "ev-0001");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventId(IdRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IdRepr {
    Uuid(u128),
    Text(Arc<str>),
}

impl EventId {
    /// A new UUIDv7 id for the current millisecond.
    ///
    /// ```
    /// let a = event_center::EventId::new();
    /// let b = event_center::EventId::new();
    /// assert_ne!(a, b);
    /// ```
    pub fn new() -> Self {
        Self::at_millis(now_millis())
    }

    /// A new UUIDv7 id for the given Unix millisecond (the clock is not read).
    pub(crate) fn at_millis(millis: i64) -> Self {
        let random = (u128::from(fast_random()) << 64) | u128::from(fast_random());
        let bytes = random.to_be_bytes();
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&bytes[..10]);
        let uuid =
            uuid::Builder::from_unix_timestamp_millis(millis.max(0) as u64, &tail).into_uuid();
        EventId(IdRepr::Uuid(uuid.as_u128()))
    }

    /// Reads an id from its wire form. Any string is a valid id; 32 lowercase
    /// hex characters are stored compactly.
    ///
    /// ```
    /// use event_center::EventId;
    /// let id = EventId::parse("bb66fc335fd541758bb8f850568180f3");
    /// assert_eq!(id.to_string(), "bb66fc335fd541758bb8f850568180f3");
    /// ```
    pub fn parse(text: &str) -> Self {
        let compact =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match compact
            .then(|| u128::from_str_radix(text, 16).ok())
            .flatten()
        {
            Some(n) => EventId(IdRepr::Uuid(n)),
            None => EventId(IdRepr::Text(Arc::from(text))),
        }
    }

    /// Calls `f` with the id's wire form, without allocating.
    pub(crate) fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match &self.0 {
            IdRepr::Uuid(n) => f(Self::write_hex(*n, &mut [0; 32])),
            IdRepr::Text(s) => f(s),
        }
    }

    fn write_hex(n: u128, buf: &mut [u8; 32]) -> &str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte = HEX[((n >> (124 - 4 * i)) & 0xf) as usize];
        }
        // Only ASCII hex digits were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_str(|id| f.pad(id))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_str(|id| serializer.serialize_str(id))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(EventId::parse(&text))
    }
}

/// How serious an event is. Serialized as `DEBUG`, `INFO`, `WARNING`,
/// `ERROR` or `CRITICAL`, as Agently does.
///
/// ```
/// use event_center::Level;
/// assert_eq!("warning".parse::<Level>().unwrap(), Level::Warning);
/// assert_eq!(Level::Error.as_str(), "ERROR");
/// assert!(Level::Critical > Level::Info);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation (the default).
    #[default]
    Info,
    /// Something unexpected that the run survived.
    Warning,
    /// A failure of one operation.
    Error,
    /// A failure of the whole run or process.
    Critical,
}

impl Level {
    /// The wire name: `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.
    ///
    /// ```
    /// assert_eq!(event_center::Level::Debug.as_str(), "DEBUG");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`Level`] from text that names no level.
///
/// ```
/// let err = "LOUD".parse::<event_center::Level>().unwrap_err();
/// assert!(err.to_string().contains("LOUD"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError {
    text: String,
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level {:?}: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
            self.text
        )
    }
}

impl StdError for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const ALL: [Level; 5] = [
            Level::Debug,
            Level::Info,
            Level::Warning,
            Level::Error,
            Level::Critical,
        ];
        ALL.into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLevelError { text: s.to_owned() })
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What went wrong, in Agently's ErrorInfo shape.
///
/// ```
/// use event_center::ErrorInfo;
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no config");
/// let info = ErrorInfo::from_error(&io);
/// assert_eq!(info.error_type, "Error");
/// assert_eq!(info.module.as_deref(), Some("std::io::error"));
/// assert_eq!(info.message, "no config");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The error's type name (`"type"` on the wire).
    #[serde(rename = "type")]
    pub error_type: String,
    /// The error's message.
    pub message: String,
    /// Where the type is defined (a Rust module path, a Python module).
    #[serde(default)]
    pub module: Option<String>,
    /// A traceback; for Rust errors, the chain of `source()` errors.
    #[serde(default)]
    pub traceback: Option<String>,
    /// Whether retrying may succeed.
    #[serde(default)]
    pub retryable: Option<bool>,
    /// Whether the run cannot go on.
    #[serde(default)]
    pub fatal: Option<bool>,
    /// An application error code.
    #[serde(default)]
    pub code: Option<String>,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub details: JsonMap,
}

impl ErrorInfo {
    /// An error of the given type name and message.
    ///
    /// ```
    /// let info = event_center::ErrorInfo::new("Timeout", "no answer in 30 s");
    /// assert_eq!(info.error_type, "Timeout");
    /// ```
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorInfo {
            error_type: error_type.into(),
            message: message.into(),
            ..ErrorInfo::default()
        }
    }

    /// Describes any error: its type name and module from the Rust type, its
    /// message from `Display`, and its `source()` chain as the traceback.
    ///
    /// ```
    /// use event_center::ErrorInfo;
    /// let err = "x".parse::<i32>().unwrap_err();
    /// let info = ErrorInfo::from_error(&err);
    /// assert_eq!(info.error_type, "ParseIntError");
    /// assert_eq!(info.message, "invalid digit found in string");
    /// ```
    pub fn from_error<E: StdError + ?Sized>(error: &E) -> Self {
        let (module, error_type) = split_type_name(std::any::type_name::<E>());
        let mut traceback = format!("{error_type}: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            traceback.push_str("\nCaused by: ");
            traceback.push_str(&cause.to_string());
            source = cause.source();
        }
        ErrorInfo {
            error_type,
            message: error.to_string(),
            module,
            traceback: Some(traceback),
            ..ErrorInfo::default()
        }
    }

    /// Describes a caught panic (the payload of `catch_unwind`).
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("hook exploded")).unwrap_err();
    /// let info = event_center::ErrorInfo::from_panic(&*caught);
    /// assert_eq!(info.error_type, "panic");
    /// assert_eq!(info.message, "hook exploded");
    /// ```
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        ErrorInfo {
            fatal: Some(false),
            ..ErrorInfo::new("panic", message)
        }
    }

    /// Sets `code`.
    ///
    /// ```
    /// let info = event_center::ErrorInfo::new("Timeout", "t").with_code("E42");
    /// assert_eq!(info.code.as_deref(), Some("E42"));
    /// ```
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets `retryable`.
    ///
    /// ```
    /// let info = event_center::ErrorInfo::new("Timeout", "t").with_retryable(true);
    /// assert_eq!(info.retryable, Some(true));
    /// ```
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = Some(retryable);
        self
    }

    /// Sets `fatal`.
    ///
    /// ```
    /// let info = event_center::ErrorInfo::new("Crash", "c").with_fatal(true);
    /// assert_eq!(info.fatal, Some(true));
    /// ```
    pub fn with_fatal(mut self, fatal: bool) -> Self {
        self.fatal = Some(fatal);
        self
    }

    /// Adds one entry to `details`.
    ///
    /// ```
    /// let info = event_center::ErrorInfo::new("Http", "503").with_detail("status", 503);
    /// assert_eq!(info.details["status"], 503);
    /// ```
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    pub(crate) fn from_json(value: Value, path: &str) -> Result<Self, EventError> {
        let mut obj = into_object(value, path)?;
        let p = |key: &str| format!("{path}.{key}");
        Ok(ErrorInfo {
            error_type: take_string(&mut obj, "type", &p("type"))?
                .ok_or_else(|| EventError::missing_field(p("type")))?,
            message: take_string(&mut obj, "message", &p("message"))?
                .ok_or_else(|| EventError::missing_field(p("message")))?,
            module: take_string(&mut obj, "module", &p("module"))?,
            traceback: take_string(&mut obj, "traceback", &p("traceback"))?,
            retryable: take_bool(&mut obj, "retryable", &p("retryable"))?,
            fatal: take_bool(&mut obj, "fatal", &p("fatal"))?,
            code: take_string(&mut obj, "code", &p("code"))?,
            details: take_object(&mut obj, "details", &p("details"))?.unwrap_or_default(),
        })
    }
}

fn split_type_name(full: &str) -> (Option<String>, String) {
    if full.starts_with("dyn ") {
        // A trait object (`dyn Error + Send + Sync`) names no concrete type.
        return (None, "Error".to_owned());
    }
    let head_end = full.find('<').unwrap_or(full.len());
    let (head, generics) = full.split_at(head_end);
    match head.rfind("::") {
        Some(i) => (
            Some(head[..i].to_owned()),
            format!("{}{}", &head[i + 2..], generics),
        ),
        None => (None, full.to_owned()),
    }
}

impl<E: StdError> From<&E> for ErrorInfo {
    fn from(error: &E) -> Self {
        ErrorInfo::from_error(error)
    }
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
    ///
    /// ```
    /// let e = event_center::Event::new("x.y").with_source("Worker");
    /// assert_eq!(e.source, "Worker");
    /// ```
    pub fn with_source(mut self, source: impl Into<SharedStr>) -> Self {
        self.source = source.into();
        self
    }

    /// Sets `level`.
    ///
    /// ```
    /// use event_center::{Event, Level};
    /// assert_eq!(Event::new("x.y").with_level(Level::Debug).level, Level::Debug);
    /// ```
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Sets `message`.
    ///
    /// ```
    /// let e = event_center::Event::new("x.y").with_message("hello");
    /// assert_eq!(e.message.as_deref(), Some("hello"));
    /// ```
    pub fn with_message(mut self, message: impl Into<SharedStr>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets `payload`.
    ///
    /// ```
    /// let e = event_center::Event::new("x.y").with_payload(serde_json::json!([1, 2]));
    /// assert_eq!(e.payload[1], 2);
    /// ```
    pub fn with_payload(mut self, payload: impl Into<Value>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets `error`.
    ///
    /// ```
    /// use event_center::{ErrorInfo, Event};
    /// let e = Event::new("x.failed").with_error(ErrorInfo::new("Timeout", "t"));
    /// assert_eq!(e.error.unwrap().error_type, "Timeout");
    /// ```
    pub fn with_error(mut self, error: ErrorInfo) -> Self {
        self.error = Some(Box::new(error));
        self
    }

    /// Sets `run`.
    ///
    /// ```
    /// use event_center::{Event, RunContext};
    /// let run = RunContext::new("agent_execution");
    /// let e = Event::new("x.y").with_run(run.clone());
    /// assert_eq!(e.run.unwrap().run_id, run.run_id);
    /// ```
    pub fn with_run(mut self, run: impl Into<Arc<RunContext>>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// Adds one entry to `meta`.
    ///
    /// ```
    /// let e = event_center::Event::new("x.y").with_meta("tenant", "demo");
    /// assert_eq!(e.meta["tenant"], "demo");
    /// ```
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        Arc::make_mut(&mut self.meta).insert(key.into(), value.into());
        self
    }

    /// Sets `timestamp` (Unix milliseconds).
    ///
    /// ```
    /// let e = event_center::Event::new("x.y").with_timestamp(1_760_000_000_000);
    /// assert_eq!(e.timestamp, 1_760_000_000_000);
    /// ```
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
    fn new(field: impl Into<String>, kind: EventErrorKind) -> Self {
        EventError {
            field: field.into(),
            kind,
        }
    }

    pub(crate) fn missing_field(field: impl Into<String>) -> Self {
        Self::new(field, EventErrorKind::Missing)
    }

    fn wrong_type(field: impl Into<String>, expected: &'static str, found: &Value) -> Self {
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

fn take_bool(obj: &mut JsonMap, key: &str, path: &str) -> Result<Option<bool>, EventError> {
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
