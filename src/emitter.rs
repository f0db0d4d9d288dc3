//! `Emitter` and the `Emit` builder: the hot path.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::capture;
use crate::center::EventCenter;
use crate::dispatch::{emit, emit_async};
use crate::event::{empty_meta, now_millis, ErrorInfo, Event, EventId, JsonMap, Level};
use crate::run::{RunContext, TaskScope};
use crate::text::SharedStr;

/// Stamps events with a source, base meta and run, and sends them to its
/// center. Cheap to clone; share one per component.
///
/// ```
/// use event_center::{Event, EventCenter, Level, RunContext};
///
/// let center = EventCenter::new();
/// center.register_hook("log", "runtime.*", |e: &Event| {
///     println!("[{}] {}: {}", e.level, e.source, e.message.as_deref().unwrap_or(""));
/// }).unwrap();
///
/// let emitter = center
///     .emitter("Billing")
///     .with_meta("tenant", "demo")
///     .with_run(RunContext::new("agent_execution"));
/// emitter.info("hello").send();
/// emitter.emit("billing.invoice_created").level(Level::Info).payload(serde_json::json!({"amount": 12.5})).send();
/// ```
#[derive(Clone)]
pub struct Emitter {
    center: EventCenter,
    source: SharedStr,
    meta: Arc<JsonMap>,
    run: Option<Arc<RunContext>>,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("source", &self.source)
            .field("meta", &self.meta)
            .field("run", &self.run)
            .finish()
    }
}

impl Emitter {
    pub(crate) fn new(center: EventCenter, source: SharedStr) -> Emitter {
        Emitter {
            center,
            source,
            meta: empty_meta(),
            run: None,
        }
    }

    /// Adds a base meta entry, stamped on every event (an event's own meta
    /// entries win).
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        Arc::make_mut(&mut self.meta).insert(key.into(), value.into());
        self
    }

    /// Sets the run stamped on events that name none. Without it, events
    /// carry the current run of the task or closure (see
    /// [`RunContext::scope`]).
    pub fn with_run(mut self, run: impl Into<Arc<RunContext>>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// The source stamped on events.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The center this emitter sends to.
    ///
    /// ```
    /// let center = event_center::EventCenter::new();
    /// let emitter = center.emitter("S");
    /// assert!(emitter.center().hook_names().is_empty());
    /// ```
    pub fn center(&self) -> &EventCenter {
        &self.center
    }

    /// Starts an event of the given type; finish with [`Emit::send`] or
    /// [`Emit::send_async`]. Nothing is built unless some hook listens or a
    /// [capture](EventCenter::capture) collects it.
    ///
    /// ```
    /// let emitter = event_center::EventCenter::new().emitter("Agent");
    /// emitter.emit("model.requesting").message("asking").send();
    /// ```
    #[inline]
    pub fn emit(&self, event_type: impl Into<SharedStr>) -> Emit<'_> {
        Emit {
            emitter: self,
            event_type: event_type.into(),
            level: Level::Info,
            message: None,
            payload: Value::Null,
            error: None,
            run: None,
            meta: None,
        }
    }

    /// A DEBUG event of type `runtime.debug` with this message.
    pub fn debug(&self, message: impl Into<SharedStr>) -> Emit<'_> {
        self.emit("runtime.debug")
            .level(Level::Debug)
            .message(message)
    }

    /// An INFO event of type `runtime.info` with this message.
    pub fn info(&self, message: impl Into<SharedStr>) -> Emit<'_> {
        self.emit("runtime.info")
            .level(Level::Info)
            .message(message)
    }

    /// A WARNING event of type `runtime.warning` with this message.
    pub fn warning(&self, message: impl Into<SharedStr>) -> Emit<'_> {
        self.emit("runtime.warning")
            .level(Level::Warning)
            .message(message)
    }

    /// An ERROR event of type `runtime.error` with this message, and an
    /// error of type `Error` carrying it (as Agently wraps a string in a
    /// `RuntimeError`); replace it with [`Emit::error`].
    ///
    /// ```
    /// let io = std::io::Error::other("disk full");
    /// event_center::EventCenter::new().emitter("S").error("write failed").error(&io).send();
    /// ```
    pub fn error(&self, message: impl Into<SharedStr>) -> Emit<'_> {
        self.failure("runtime.error", Level::Error, message.into())
    }

    /// A CRITICAL event of type `runtime.critical`, like [`Emitter::error`].
    pub fn critical(&self, message: impl Into<SharedStr>) -> Emit<'_> {
        self.failure("runtime.critical", Level::Critical, message.into())
    }

    fn failure(&self, event_type: &'static str, level: Level, message: SharedStr) -> Emit<'_> {
        let error = ErrorInfo::new("Error", message.as_str());
        self.emit(event_type)
            .level(level)
            .message(message)
            .error(error)
    }
}

/// One event being emitted; see [`Emitter::emit`].
///
/// ```
/// use event_center::{EventCenter, Level, RunContext};
/// use serde_json::json;
///
/// let emitter = EventCenter::new().emitter("Agent");
/// emitter
///     .emit("tool.completed")
///     .level(Level::Info)
///     .message("search done")
///     .payload_with(|| json!({"hits": 3})) // only called when a hook listens
///     .meta("attempt", 2)
///     .run(RunContext::new("action"))
///     .send();
/// ```
#[must_use = "an event is emitted only by `send()` or `send_async().await`"]
pub struct Emit<'a> {
    emitter: &'a Emitter,
    event_type: SharedStr,
    level: Level,
    message: Option<SharedStr>,
    payload: Value,
    error: Option<Box<ErrorInfo>>,
    run: Option<Arc<RunContext>>,
    meta: Option<JsonMap>,
}

impl Emit<'_> {
    /// Sets the level (default INFO).
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<SharedStr>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the payload (any value that converts into JSON).
    pub fn payload(mut self, payload: impl Into<Value>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets the payload from a closure, called only when some hook listens
    /// to this event type or a [capture](EventCenter::capture) collects it:
    /// expensive payloads cost nothing when nobody looks.
    ///
    /// ```
    /// let emitter = event_center::EventCenter::new().emitter("S");
    /// emitter
    ///     .emit("nobody.listens")
    ///     .payload_with(|| unreachable!("not called without a listener"))
    ///     .send();
    /// ```
    pub fn payload_with(mut self, payload: impl FnOnce() -> Value) -> Self {
        let center = &self.emitter.center;
        if center.listens_to(&self.event_type) || capture::is_active(&center.inner) {
            self.payload = payload();
        }
        self
    }

    /// Adds a meta entry (over the emitter's base meta).
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.meta
            .get_or_insert_with(|| (*self.emitter.meta).clone())
            .insert(key.into(), value.into());
        self
    }

    /// Sets the run (over the emitter's and the current one).
    pub fn run(mut self, run: impl Into<Arc<RunContext>>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// Sets the error: an [`ErrorInfo`], or `&e` for any `std::error::Error`.
    ///
    /// ```
    /// let err = "x".parse::<u8>().unwrap_err();
    /// event_center::EventCenter::new().emitter("S").emit("parse.failed").error(&err).send();
    /// ```
    pub fn error(mut self, error: impl Into<ErrorInfo>) -> Self {
        self.error = Some(Box::new(error.into()));
        self
    }

    fn build(self, event_type: SharedStr) -> Event {
        let timestamp = now_millis();
        Event {
            event_id: EventId::at_millis(timestamp),
            event_type,
            source: self.emitter.source.clone(),
            level: self.level,
            message: self.message,
            payload: self.payload,
            error: self.error,
            run: self
                .run
                .or_else(|| self.emitter.run.clone())
                .or_else(TaskScope::current_run),
            meta: self
                .meta
                .map_or_else(|| self.emitter.meta.clone(), Arc::new),
            timestamp,
            seq: 0,
            extra: JsonMap::new(),
        }
    }

    /// Emits now: synchronous hooks run in this thread before it returns;
    /// async hooks get the event on their own workers (this never waits for
    /// them). Does nothing, and builds nothing, when no hook listens and no
    /// [capture](EventCenter::capture) collects it.
    #[inline]
    pub fn send(self) {
        // The commonest emit, a literal type nobody listens to outside any
        // capture, ends here before anything is moved or built.
        if !self
            .emitter
            .center
            .inner
            .registry
            .known_silent(&self.event_type)
            || capture::maybe_capturing()
        {
            self.send_listened();
        } else if self.owns_nothing() {
            // Nothing to free: skip the out-of-line drop glue. Measured by
            // `benches/emit.rs` `unmatched/event_center`, back to back:
            // 10-15 ns with this, 15-22 ns when the builder is dropped.
            std::mem::forget(self);
        }
    }

    /// Whether dropping this builder would free nothing.
    #[inline]
    fn owns_nothing(&self) -> bool {
        self.payload.is_null()
            && self.error.is_none()
            && self.run.is_none()
            && self.meta.is_none()
            && self
                .message
                .as_ref()
                .is_none_or(|m| m.static_key().is_some())
            && self.event_type.static_key().is_some()
    }

    /// Builds, seals, records in the active capture (if any) and delivers.
    #[inline(never)]
    fn send_listened(mut self) {
        let event_type = std::mem::take(&mut self.event_type);
        let inner = &self.emitter.center.inner;
        emit(inner, &event_type, || self.build(event_type.clone()));
    }

    /// Emits and awaits every matching hook, async ones included.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// event_center::EventCenter::new().emitter("S").emit("a.b").send_async().await;
    /// # });
    /// ```
    pub async fn send_async(mut self) {
        let event_type = std::mem::take(&mut self.event_type);
        let inner = &self.emitter.center.inner;
        emit_async(inner, &event_type, || self.build(event_type.clone())).await;
    }
}
