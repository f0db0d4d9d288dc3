//! `tracing` into the center: the layer that turns `tracing` events (and,
//! optionally, spans) into center events.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::callsite::{derived_type_wanted, with_callsite};
use super::fields::{json_f64, FieldCollector};
use super::spans::{apply_span_fields, run_of, SpanFields, SpanRun, SpanStart};
use super::Bridging;
use crate::center::EventCenter;
use crate::event::{Event, Level};
use crate::integrations::capture;
use crate::run::RunContext;
use crate::text::SharedStr;

#[cfg(doc)]
use super::hook::TracingHook;

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
