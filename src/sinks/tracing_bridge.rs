//! The tracing bridge, both ways: [`EventCenterLayer`] turns `tracing`
//! events (and, optionally, spans) into center events; [`TracingHook`]
//! re-emits center events through `tracing`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Instant;

use foldhash::fast::FixedState;
use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::event::{ErrorInfo, Event, JsonMap, Level};
use crate::hook::{Hook, HookResult};
use crate::integrations::capture;
use crate::pattern::Patterns;
use crate::run::RunContext;
use crate::text::SharedStr;

thread_local! {
    /// Set while this thread is inside the bridge (a layer emitting into a
    /// center, or a hook re-emitting into `tracing`): tracing events raised
    /// meanwhile on this thread are not turned into center events.
    static BRIDGING: Cell<bool> = const { Cell::new(false) };
    /// A reusable buffer for deciding on a derived event type.
    static TYPE_BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
    /// What this thread has built for each callsite whose events it sent.
    static CALLSITES: RefCell<HashMap<usize, Callsite, FixedState>> =
        RefCell::new(HashMap::with_hasher(FixedState::default()));
}

/// What every event of one callsite shares: its derived event type and its
/// meta (where it was raised). Built once per callsite and thread, the first
/// time one of its events is sent.
struct Callsite {
    derived_type: SharedStr,
    meta: Arc<JsonMap>,
}

impl Callsite {
    fn new(metadata: &Metadata<'_>) -> Callsite {
        let mut derived = String::new();
        write_derived_type(&mut derived, metadata);
        Callsite {
            derived_type: SharedStr::from(derived),
            meta: Arc::new(origin_meta(metadata)),
        }
    }
}

/// `tracing.` and the target with `::` as `.`, and `.name` when the event
/// was given a name.
fn write_derived_type(buffer: &mut String, metadata: &Metadata<'_>) {
    buffer.clear();
    buffer.push_str("tracing");
    for part in metadata.target().split("::") {
        buffer.push('.');
        buffer.push_str(part);
    }
    if let Some(name) = explicit_name(metadata) {
        buffer.push('.');
        buffer.push_str(name);
    }
}

/// Whether `wanted` says yes to the derived type of `metadata`, formatted
/// into a per-thread buffer: nothing allocated once the buffer has grown.
fn derived_type_wanted(metadata: &Metadata<'_>, wanted: impl FnOnce(&str) -> bool) -> bool {
    TYPE_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            write_derived_type(&mut buffer, metadata);
            wanted(&buffer)
        }
        Err(_) => {
            let mut buffer = String::new();
            write_derived_type(&mut buffer, metadata);
            wanted(&buffer)
        }
    })
}

/// Calls `f` with what is shared by the events of the callsite of
/// `metadata`.
fn with_callsite<R>(metadata: &'static Metadata<'static>, f: impl FnOnce(&Callsite) -> R) -> R {
    let key = metadata as *const Metadata<'static> as usize;
    CALLSITES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut callsites) => f(callsites
            .entry(key)
            .or_insert_with(|| Callsite::new(metadata))),
        // Re-entered from inside `f` (it does not happen today): work it
        // out without the cache.
        Err(_) => f(&Callsite::new(metadata)),
    })
}

/// Marks this thread as inside the bridge until dropped.
struct Bridging {
    was: bool,
}

impl Bridging {
    fn enter() -> Bridging {
        Bridging {
            was: BRIDGING.with(|b| b.replace(true)),
        }
    }

    fn active() -> bool {
        BRIDGING.with(Cell::get)
    }
}

impl Drop for Bridging {
    fn drop(&mut self) {
        BRIDGING.with(|b| b.set(self.was));
    }
}

/// The center's level for a `tracing` level: TRACE and DEBUG are `DEBUG`,
/// WARN is `WARNING`.
fn level_from_tracing(level: &tracing::Level) -> Level {
    match *level {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warning,
        tracing::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

/// A `tracing_subscriber` [`Layer`] that turns `tracing` events into center
/// events, and the spans they happen in into run lineage.
///
/// For each `tracing` event that some hook of the center listens to (or that
/// a [capture](EventCenter::capture) collects):
///
/// - **event type**: the value of the event's `event_type` field (the name
///   is set by [`with_event_type_field`](EventCenterLayer::with_event_type_field)),
///   taken as it is; without that field, `tracing.` followed by the target
///   with `::` turned into `.` (`myapp::db` gives `tracing.myapp.db`), and
///   `.` and the event's name when it was given one (`event!(name: "query",
///   ...)`; the default name, `event file:line`, is not used, so the type does
///   not change when the code moves). The level is not part of the type.
/// - **level**: TRACE and DEBUG become `DEBUG`, INFO `INFO`, WARN `WARNING`,
///   ERROR `ERROR`.
/// - **message**: the `message` field (the format string of `info!("...")`).
/// - **payload**: the other fields as a JSON object, typed: integers and
///   floats stay numbers, booleans booleans, strings strings, `?debug` and
///   `%display` values their text; `null` when there are none. A field
///   recorded as a `dyn Error` is its message in the payload and, for the
///   first such field, the event's [`error`](Event::error) (with its
///   `source()` chain as the traceback).
/// - **source**: `"tracing"`, or what [`with_source`](EventCenterLayer::with_source) sets.
/// - **meta**: `{"tracing": {"target", "file", "line"}}`, where the event
///   was raised. [`TracingHook`] skips events marked so: they are in the
///   `tracing` output already.
/// - **run**: the span the event happened in, as a [`RunContext`]: a run per
///   span, created the first time an event of the span (or of a span inside
///   it) reaches the center, with a generated time-ordered `run_id` (span
///   ids are reused by the registry once a span closes, so they cannot name
///   a run), the span's name as `run_kind`, the enclosing span's run as the
///   parent and the outermost span's as the root. Span fields named
///   `run_id`, `run_kind`, `agent_id`, `agent_name`, `session_id`,
///   `response_id` or `execution_id` set those fields of the run; the
///   others go into the run's `meta`, with the span id as `tracing_span_id`.
///
/// With [`with_spans(true)`](EventCenterLayer::with_spans), a span's creation
/// and its close are events too: [`SPAN_STARTED`](EventCenterLayer::SPAN_STARTED)
/// (payload: the span's fields) and [`SPAN_ENDED`](EventCenterLayer::SPAN_ENDED)
/// (payload: `elapsed_ms`), with the span's own run.
///
/// **Cost.** The layer never disables anything for the other layers (its
/// `enabled` is always true, as a layer's answer filters the whole
/// subscriber). Instead, `on_event` first works out the event type (reading
/// only the `event_type` field, or writing the derived type into a
/// per-thread buffer) and asks the center whether anyone listens: if not,
/// nothing is built or formatted and nothing is allocated. What every event
/// of a callsite shares (the derived type, the `meta`) is made once per
/// callsite and thread, when its first event is sent. Spans with fields
/// keep a copy of their fields (as `fmt` does) so that a run created later
/// can carry them.
///
/// **Loops.** Events that a [`TracingHook`] re-emits into `tracing` never
/// come back into a center, and neither do `tracing` events raised by an
/// inline hook while the layer is delivering to it.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use event_center::{Event, EventCenter, EventCenterLayer};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let center = EventCenter::new();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// center
///     .register_hook("test", "*", move |e: &Event| sink.lock().unwrap().push(e.clone()))
///     .unwrap();
///
/// let subscriber = tracing_subscriber::registry().with(EventCenterLayer::new(&center));
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("agent_execution", agent_name = "planner");
///     let _entered = span.enter();
///     tracing::info!(event_type = "order.created", order_id = 42, "order {}", "created");
///     tracing::warn!(target: "myapp::db", retries = 2, "slow query");
/// });
///
/// let seen = seen.lock().unwrap();
/// assert_eq!(seen[0].event_type, "order.created");
/// assert_eq!(seen[0].message.as_deref(), Some("order created"));
/// assert_eq!(seen[0].payload["order_id"], 42);
/// let run = seen[0].run.as_ref().unwrap();
/// assert_eq!((run.run_kind.as_str(), run.agent_name.as_deref()), ("agent_execution", Some("planner")));
/// assert_eq!(seen[1].event_type, "tracing.myapp.db");
/// assert_eq!(seen[1].level, event_center::Level::Warning);
/// assert_eq!(seen[1].run.as_ref().unwrap().run_id, run.run_id);
/// ```
#[derive(Clone, Debug)]
pub struct EventCenterLayer {
    center: EventCenter,
    source: SharedStr,
    event_type_field: String,
    spans: bool,
}

impl EventCenterLayer {
    /// The event type of a span's creation, with
    /// [`with_spans(true)`](EventCenterLayer::with_spans).
    pub const SPAN_STARTED: &'static str = "tracing.span_started";
    /// The event type of a span's close, with
    /// [`with_spans(true)`](EventCenterLayer::with_spans).
    pub const SPAN_ENDED: &'static str = "tracing.span_ended";

    /// A layer into `center`: source `"tracing"`, the event type from the
    /// `event_type` field, no span events.
    ///
    /// ```
    /// use event_center::{Event, EventCenter, EventCenterLayer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let center = EventCenter::new();
    /// center.register_hook("models", "model.*", |_: &Event| {}).unwrap();
    /// let subscriber = tracing_subscriber::registry().with(EventCenterLayer::new(&center));
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::info!(event_type = "model.completed", tokens = 42);
    /// });
    /// assert_eq!(center.stats().hooks[0].delivered, 1);
    /// ```
    pub fn new(center: &EventCenter) -> EventCenterLayer {
        EventCenterLayer {
            center: center.clone(),
            source: SharedStr::from_static("tracing"),
            event_type_field: "event_type".to_owned(),
            spans: false,
        }
    }

    /// Whether span creation and close are events too
    /// ([`SPAN_STARTED`](EventCenterLayer::SPAN_STARTED),
    /// [`SPAN_ENDED`](EventCenterLayer::SPAN_ENDED)); off by default.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, EventCenterLayer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let center = EventCenter::new();
    /// let types = Arc::new(Mutex::new(Vec::new()));
    /// let sink = types.clone();
    /// center
    ///     .register_hook("spans", "tracing.span_*", move |e: &Event| {
    ///         sink.lock().unwrap().push(e.event_type.to_string())
    ///     })
    ///     .unwrap();
    /// let layer = EventCenterLayer::new(&center).with_spans(true);
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info_span!("step").in_scope(|| {});
    /// });
    /// assert_eq!(*types.lock().unwrap(), ["tracing.span_started", "tracing.span_ended"]);
    /// ```
    pub fn with_spans(mut self, spans: bool) -> Self {
        self.spans = spans;
        self
    }

    /// Sets the source stamped on the events (default `"tracing"`).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, EventCenterLayer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let center = EventCenter::new();
    /// let sources = Arc::new(Mutex::new(Vec::new()));
    /// let sink = sources.clone();
    /// center
    ///     .register_hook("s", "billing.*", move |e: &Event| sink.lock().unwrap().push(e.source.to_string()))
    ///     .unwrap();
    /// let layer = EventCenterLayer::new(&center).with_source("billing-service");
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(event_type = "billing.invoice_created");
    /// });
    /// assert_eq!(*sources.lock().unwrap(), ["billing-service"]);
    /// ```
    pub fn with_source(mut self, source: impl Into<SharedStr>) -> Self {
        self.source = source.into();
        self
    }

    /// Sets the name of the field that gives the event type (default
    /// `"event_type"`). That field is not copied into the payload.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, EventCenterLayer};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let center = EventCenter::new();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// center
    ///     .register_hook("k", "billing.*", move |e: &Event| sink.lock().unwrap().push(e.clone()))
    ///     .unwrap();
    /// let layer = EventCenterLayer::new(&center).with_event_type_field("kind");
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(kind = "billing.invoice_created", amount = 12.5);
    /// });
    /// let seen = seen.lock().unwrap();
    /// assert_eq!(seen[0].event_type, "billing.invoice_created");
    /// assert_eq!(seen[0].payload, serde_json::json!({"amount": 12.5}));
    /// ```
    pub fn with_event_type_field(mut self, field: impl Into<String>) -> Self {
        self.event_type_field = field.into();
        self
    }

    /// Whether an event of this type would be delivered or captured.
    fn wanted(&self, event_type: &str) -> bool {
        self.center.is_listened(event_type) || capture::is_active(&self.center.inner)
    }

    /// The event type of a `tracing` event, when someone wants it.
    fn event_type_of(&self, event: &tracing::Event<'_>) -> Option<SharedStr> {
        // (`metadata` is the callsite's, `&'static`.)
        let metadata = event.metadata();
        if let Some(field) = metadata.fields().field(&self.event_type_field) {
            let mut probe = TypeProbe {
                layer: self,
                field,
                decided: false,
                wanted: None,
            };
            event.record(&mut probe);
            if probe.decided {
                return probe.wanted;
            }
        }
        derived_type_wanted(metadata, |event_type| self.wanted(event_type))
            .then(|| with_callsite(metadata, |callsite| callsite.derived_type.clone()))
    }

    /// Emits a span's start or end event, named after the span, in its run.
    fn emit_span_event(
        &self,
        event_type: &'static str,
        metadata: &'static Metadata<'static>,
        payload: Value,
        run: Arc<RunContext>,
    ) {
        let mut event = Event::new(event_type)
            .with_source(self.source.clone())
            .with_level(level_from_tracing(metadata.level()))
            .with_message(metadata.name())
            .with_payload(payload)
            .with_run(run);
        event.meta = with_callsite(metadata, |callsite| callsite.meta.clone());
        self.emit(event);
    }

    /// Emits `event` into the center with this thread marked as bridging.
    fn emit(&self, event: Event) {
        let _bridging = Bridging::enter();
        self.center.emit_event(event);
    }
}

/// The event's name when the code gave it one: not `event file:line`.
fn explicit_name<'a>(metadata: &Metadata<'a>) -> Option<&'a str> {
    let name = metadata.name();
    let is_default = (|| {
        let rest = name.strip_prefix("event ")?;
        let rest = rest.strip_prefix(metadata.file()?)?;
        let line = rest.strip_prefix(':')?;
        Some(line.parse::<u32>().ok()? == metadata.line()?)
    })()
    .unwrap_or(false);
    (!is_default && !name.is_empty()).then_some(name)
}

/// Reads the event-type field only, deciding whether anyone wants the event
/// before anything is built.
struct TypeProbe<'a> {
    layer: &'a EventCenterLayer,
    /// The event-type field (compared by callsite and index, not by name).
    field: Field,
    decided: bool,
    wanted: Option<SharedStr>,
}

impl TypeProbe<'_> {
    fn decide(&mut self, event_type: &str) {
        self.decided = true;
        if self.layer.wanted(event_type) {
            self.wanted = Some(SharedStr::from(event_type.to_owned()));
        }
    }
}

impl Visit for TypeProbe<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.decided && *field == self.field {
            self.decide(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.decided && *field == self.field {
            // `%value` and `?value` arrive here; a `%` value's Debug is its
            // Display.
            let text = format!("{value:?}");
            self.decide(&text);
        }
    }
}

/// A field value as JSON, typed.
fn json_u128(value: u128) -> Value {
    u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from)
}

fn json_i128(value: i128) -> Value {
    i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from)
}

fn json_f64(value: f64) -> Value {
    Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number)
}

/// An error's `ErrorInfo`: its message and `source()` chain (the concrete
/// type is not known behind `dyn Error`).
fn error_info(error: &(dyn StdError + 'static)) -> ErrorInfo {
    let message = error.to_string();
    let mut traceback = format!("Error: {message}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(traceback, "\nCaused by: {cause}");
        source = cause.source();
    }
    let mut info = ErrorInfo::new("Error", message);
    info.traceback = Some(traceback);
    info
}

/// Collects an event's or a span's fields.
struct FieldCollector<'a> {
    skip: &'a str,
    message: Option<String>,
    fields: Map<String, Value>,
    error: Option<ErrorInfo>,
}

impl<'a> FieldCollector<'a> {
    fn new(skip: &'a str) -> Self {
        FieldCollector {
            skip,
            message: None,
            fields: Map::new(),
            error: None,
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        if field.name() != self.skip {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, json_f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, json_i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, json_u128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.put(field, Value::String(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        if self.error.is_none() {
            self.error = Some(error_info(value));
        }
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.put(field, Value::String(text));
        }
    }
}

/// Where a tracing event or span was raised: the event's meta.
fn origin_meta(metadata: &Metadata<'_>) -> JsonMap {
    let mut origin = Map::new();
    origin.insert("target".into(), metadata.target().into());
    if let Some(file) = metadata.file() {
        origin.insert("file".into(), file.into());
    }
    if let Some(line) = metadata.line() {
        origin.insert("line".into(), line.into());
    }
    let mut meta = JsonMap::new();
    meta.insert("tracing".into(), Value::Object(origin));
    meta
}

/// A span's recorded fields.
struct SpanFields(Map<String, Value>);

/// A span's run, created on first use.
struct SpanRun(Arc<RunContext>);

/// When a span started (with span events on).
struct SpanStart(Instant);

/// Sets a run's fields from a span's fields: the RunContext ones by name,
/// the rest into its meta.
fn apply_span_fields(run: &mut RunContext, fields: &Map<String, Value>) {
    for (name, value) in fields {
        let text = || match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match name.as_str() {
            "run_id" => {
                // As `with_run_id`: a root run's root follows its id.
                let run_id = text();
                if run.root_run_id.as_deref() == Some(run.run_id.as_str()) {
                    run.root_run_id = Some(run_id.clone());
                }
                run.run_id = run_id;
            }
            "run_kind" => run.run_kind = text(),
            "agent_id" => run.agent_id = Some(text()),
            "agent_name" => run.agent_name = Some(text()),
            "session_id" => run.session_id = Some(text()),
            "response_id" => run.response_id = Some(text()),
            "execution_id" => run.execution_id = Some(text()),
            _ => {
                run.meta.insert(name.clone(), value.clone());
            }
        }
    }
}

/// The run of `span`, creating it (and those of the spans around it that
/// have none yet) on first use.
fn run_of<S>(span: &SpanRef<'_, S>) -> Arc<RunContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(run) = span.extensions().get::<SpanRun>() {
        return run.0.clone();
    }
    let mut parent: Option<Arc<RunContext>> = None;
    for span in span.scope().from_root() {
        let existing = span.extensions().get::<SpanRun>().map(|r| r.0.clone());
        let run = match existing {
            Some(run) => run,
            None => {
                let mut run = match &parent {
                    Some(parent) => parent.child(span.name()),
                    None => RunContext::new(span.name()),
                };
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    apply_span_fields(&mut run, &fields.0);
                }
                run.meta
                    .insert("tracing_span_id".into(), span.id().into_u64().into());
                let run = Arc::new(run);
                let mut extensions = span.extensions_mut();
                match extensions.get_mut::<SpanRun>() {
                    // Another thread created it meanwhile: use theirs.
                    Some(theirs) => theirs.0.clone(),
                    None => {
                        extensions.insert(SpanRun(run.clone()));
                        run
                    }
                }
            }
        };
        parent = Some(run);
    }
    // The scope holds the span itself, so `parent` is its run.
    parent.unwrap_or_else(|| Arc::new(RunContext::new(span.name())))
}

impl<S> Layer<S> for EventCenterLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if !attrs.metadata().fields().is_empty() {
            let mut collector = FieldCollector::new("");
            attrs.record(&mut collector);
            // `replace`: another layer of this kind may have stored them.
            span.extensions_mut().replace(SpanFields(collector.fields));
        }
        if !self.spans || Bridging::active() {
            return;
        }
        span.extensions_mut().replace(SpanStart(Instant::now()));
        if !self.wanted(Self::SPAN_STARTED) {
            return;
        }
        let payload = span
            .extensions()
            .get::<SpanFields>()
            .map_or(Value::Null, |f| Value::Object(f.0.clone()));
        self.emit_span_event(Self::SPAN_STARTED, attrs.metadata(), payload, run_of(&span));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut collector = FieldCollector::new("");
        values.record(&mut collector);
        if collector.fields.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        // A run created before the record keeps its fields; later children
        // and the span's later events see the new values.
        if let Some(run) = extensions.get_mut::<SpanRun>() {
            let mut updated = (*run.0).clone();
            apply_span_fields(&mut updated, &collector.fields);
            run.0 = Arc::new(updated);
        }
        match extensions.get_mut::<SpanFields>() {
            Some(fields) => fields.0.extend(collector.fields),
            None => extensions.insert(SpanFields(collector.fields)),
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if Bridging::active() {
            return;
        }
        let Some(event_type) = self.event_type_of(event) else {
            return;
        };
        let metadata = event.metadata();
        let mut collector = FieldCollector::new(&self.event_type_field);
        event.record(&mut collector);
        let payload = if collector.fields.is_empty() {
            Value::Null
        } else {
            Value::Object(collector.fields)
        };
        let mut built = Event::new(event_type)
            .with_source(self.source.clone())
            .with_level(level_from_tracing(metadata.level()))
            .with_payload(payload);
        built.message = collector.message.map(SharedStr::from);
        built.error = collector.error.map(Box::new);
        built.run = ctx.event_span(event).map(|span| run_of(&span));
        built.meta = with_callsite(metadata, |callsite| callsite.meta.clone());
        self.emit(built);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if !self.spans || Bridging::active() || !self.wanted(Self::SPAN_ENDED) {
            return;
        }
        let Some(span) = ctx.span(&id) else { return };
        let elapsed = span.extensions().get::<SpanStart>().map(|s| s.0.elapsed());
        let payload = elapsed.map_or(
            Value::Null,
            |elapsed| serde_json::json!({ "elapsed_ms": json_f64(elapsed.as_secs_f64() * 1000.0) }),
        );
        self.emit_span_event(Self::SPAN_ENDED, span.metadata(), payload, run_of(&span));
    }
}

/// A hook that re-emits center events through `tracing`, so an application
/// that logs with `tracing` sees its observation events in the same output.
///
/// Each event becomes a `tracing` event with the target
/// [`TracingHook::TARGET`] (`event_center`, for filters such as
/// `RUST_LOG=event_center=info`), at the matching level (`DEBUG`, `INFO`,
/// `WARNING` as WARN, `ERROR` and `CRITICAL` as ERROR), its message as the
/// message, and the fields `event_type`, `source`, `event_id`, `run_id` (when
/// the event has a run), `error` (the error's type and message, when it has
/// one) and `payload` (its JSON text, when it has one and
/// [`with_payload`](TracingHook::with_payload) is on, the default). The JSON
/// text is written only when a subscriber is interested in the level.
///
/// [`register`](TracingHook::register) is the way to install it: it uses
/// [`Delivery::Background`] (a queue of 4,096 events, the oldest dropped
/// and counted when full), so formatting and writing the log never happen
/// on the emit path. The re-emitted events then come from the hook's
/// worker thread, which sees the global `tracing` subscriber (or the one
/// given to [`with_dispatch`](TracingHook::with_dispatch)), not a scoped
/// one of the emitting thread.
///
/// Events that an [`EventCenterLayer`] made from `tracing` events (marked by
/// their `meta.tracing`) are skipped: they are in the output already. And the
/// events this hook re-emits never come back in through a layer. When a
/// layer feeds the same center, register the hook on the event families it
/// should show (`["model.*", "tool.*"]`) rather than on everything: a hook
/// on `*` listens to every `tracing` event, so the layer would build a
/// center event for each log line, only for this hook to skip it.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use event_center::{EventCenter, Patterns, TracingHook};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// // A layer that records what reaches `tracing` under the bridge's target.
/// struct Record(Arc<Mutex<Vec<String>>>);
/// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Record {
///     fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
///         let line = format!("{} {}", event.metadata().level(), event.metadata().target());
///         self.0.lock().unwrap().push(line);
///     }
/// }
///
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(Record(lines.clone())));
///
/// let center = EventCenter::new();
/// TracingHook::new().with_dispatch(dispatch).register(&center, "tracing", Patterns::All).unwrap();
/// center.emitter("Planner").warning("low budget").send();
/// center.flush(Duration::from_secs(5));
/// assert_eq!(*lines.lock().unwrap(), ["WARN event_center"]);
/// ```
#[derive(Clone, Debug)]
pub struct TracingHook {
    payload: bool,
    options: HookOptions,
    dispatch: Option<Dispatch>,
}

impl Default for TracingHook {
    fn default() -> Self {
        TracingHook::new()
    }
}

/// Re-emits one event at a static level (`tracing`'s macros need one).
macro_rules! reemit {
    ($level:expr, $hook:expr, $event:expr) => {{
        if tracing::enabled!(target: TracingHook::TARGET, $level) {
            let event: &Event = $event;
            let payload = ($hook.payload && !event.payload.is_null())
                .then(|| serde_json::to_string(&event.payload).ok())
                .flatten();
            let run_id = event.run.as_ref().map(|run| run.run_id.as_str());
            let error = event
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.error_type, e.message));
            match &event.message {
                Some(message) => tracing::event!(
                    target: TracingHook::TARGET,
                    $level,
                    event_type = event.event_type.as_str(),
                    source = event.source.as_str(),
                    event_id = %event.event_id,
                    run_id,
                    error = error.as_deref(),
                    payload = payload.as_deref().map(tracing::field::display),
                    "{}",
                    message.as_str()
                ),
                None => tracing::event!(
                    target: TracingHook::TARGET,
                    $level,
                    event_type = event.event_type.as_str(),
                    source = event.source.as_str(),
                    event_id = %event.event_id,
                    run_id,
                    error = error.as_deref(),
                    payload = payload.as_deref().map(tracing::field::display),
                ),
            }
        }
    }};
}

impl TracingHook {
    /// The `tracing` target of the re-emitted events.
    pub const TARGET: &'static str = "event_center";

    /// A hook with payloads on, delivered in the background (a queue of
    /// 4,096 events, [`Overflow::DropOldest`]), into the current `tracing`
    /// subscriber of its worker thread.
    ///
    /// ```
    /// use event_center::{Delivery, TracingHook};
    /// let hook = TracingHook::new();
    /// assert!(matches!(hook.options().delivery(), Delivery::Background { capacity: 4096, .. }));
    /// ```
    pub fn new() -> TracingHook {
        TracingHook {
            payload: true,
            options: HookOptions::new()
                .with_delivery(Delivery::background(4096, Overflow::DropOldest)),
            dispatch: None,
        }
    }

    /// Whether the payload goes out as a `payload` field holding its JSON
    /// text (on by default).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Delivery, EventCenter, TracingHook};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// // Records the field names of each event that reaches `tracing`.
    /// struct Names(Arc<Mutex<Vec<String>>>);
    /// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Names {
    ///     fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
    ///         struct V<'a>(&'a mut Vec<String>);
    ///         impl tracing::field::Visit for V<'_> {
    ///             fn record_debug(&mut self, f: &tracing::field::Field, _: &dyn std::fmt::Debug) {
    ///                 self.0.push(f.name().to_owned());
    ///             }
    ///         }
    ///         event.record(&mut V(&mut self.0.lock().unwrap()));
    ///     }
    /// }
    ///
    /// let names = Arc::new(Mutex::new(Vec::new()));
    /// let subscriber = tracing_subscriber::registry().with(Names(names.clone()));
    /// let center = EventCenter::new();
    /// TracingHook::new()
    ///     .with_payload(false)
    ///     .with_delivery(Delivery::Inline)
    ///     .register(&center, "tracing", "model.*")
    ///     .unwrap();
    /// tracing::subscriber::with_default(subscriber, || {
    ///     center.emitter("Agent").emit("model.completed").payload(serde_json::json!({"tokens": 1})).send();
    /// });
    /// assert_eq!(*names.lock().unwrap(), ["event_type", "source", "event_id"]);
    /// ```
    pub fn with_payload(mut self, payload: bool) -> Self {
        self.payload = payload;
        self
    }

    /// Sets how the hook receives its events. `Delivery::Inline` puts the
    /// re-emitted event next to the application's own logs of the same
    /// thread (inside its spans), at the price of running the subscriber's
    /// formatting and writing on the emit path.
    ///
    /// ```
    /// use event_center::{Delivery, TracingHook};
    /// let hook = TracingHook::new().with_delivery(Delivery::Inline);
    /// assert_eq!(hook.options().delivery(), &Delivery::Inline);
    /// ```
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.options = self.options.with_delivery(delivery);
        self
    }

    /// Sets every registration option at once (delivery and redaction).
    ///
    /// ```
    /// use event_center::{Delivery, HookOptions, Overflow, TracingHook};
    /// let options = HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block));
    /// let hook = TracingHook::new().with_options(options.clone());
    /// assert_eq!(hook.options(), &options);
    /// ```
    pub fn with_options(mut self, options: HookOptions) -> Self {
        self.options = options;
        self
    }

    /// Re-emits into this `tracing` dispatcher instead of the current one of
    /// the delivering thread: for a scoped subscriber, or to send the
    /// center's events to a subscriber of their own.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use event_center::{EventCenter, TracingHook};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// struct Count(Arc<AtomicUsize>);
    /// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    ///     fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
    ///         self.0.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let count = Arc::new(AtomicUsize::new(0));
    /// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(Count(count.clone())));
    /// let center = EventCenter::new();
    /// TracingHook::new().with_dispatch(dispatch).register(&center, "tracing", "tool.*").unwrap();
    /// center.emitter("Agent").emit("tool.called").send();
    /// center.flush(Duration::from_secs(5));
    /// assert_eq!(count.load(Ordering::SeqCst), 1);
    /// ```
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// The options [`register`](TracingHook::register) uses.
    ///
    /// ```
    /// assert!(event_center::TracingHook::new().options().is_redacted());
    /// ```
    pub fn options(&self) -> &HookOptions {
        &self.options
    }

    /// Registers the hook on `center` under `name` for the events `patterns`
    /// match, with its [options](TracingHook::options) (background delivery
    /// unless changed).
    ///
    /// ```
    /// use event_center::{EventCenter, TracingHook};
    /// let center = EventCenter::new();
    /// TracingHook::new().register(&center, "tracing", ["model.*", "tool.*"]).unwrap();
    /// assert_eq!(center.hook_names(), ["tracing"]);
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
    ) -> Result<(), RegisterError> {
        let options = self.options.clone();
        center.register_hook_with(name, patterns, options, self)
    }

    fn reemit(&self, event: &Event) {
        match event.level {
            Level::Debug => reemit!(tracing::Level::DEBUG, self, event),
            Level::Info => reemit!(tracing::Level::INFO, self, event),
            Level::Warning => reemit!(tracing::Level::WARN, self, event),
            Level::Error | Level::Critical => reemit!(tracing::Level::ERROR, self, event),
        }
    }
}

/// Whether an event was made from a `tracing` event by a layer.
fn came_from_tracing(event: &Event) -> bool {
    event
        .meta
        .get("tracing")
        .is_some_and(|origin| origin.get("target").is_some())
}

impl Hook for TracingHook {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        if came_from_tracing(event) {
            return Ok(());
        }
        let _bridging = Bridging::enter();
        match &self.dispatch {
            Some(dispatch) => tracing::dispatcher::with_default(dispatch, || self.reemit(event)),
            None => self.reemit(event),
        }
        Ok(())
    }
}
