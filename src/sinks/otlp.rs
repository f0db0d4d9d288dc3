//! OpenTelemetry export (feature `otlp`): events as OTLP log records, runs as
//! spans, sent over OTLP/HTTP with protobuf bodies.
//!
//! The hook only hands each event to the OpenTelemetry SDK's batch
//! processors, whose threads send the batches; export failures are noted and
//! returned by the hook's next call, so the center counts them and reports
//! `event_center.hook_failed`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, Value as OtelValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder as LogBatchConfig, BatchLogProcessor, LogBatch, LogExporter, SdkLogger,
    SdkLoggerProvider,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder as SpanBatchConfig, BatchSpanProcessor, SpanData, SpanEvents, SpanExporter,
    SpanLinks, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use serde_json::Value;

use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
use crate::event::{Event, Level};
use crate::hook::{Hook, HookResult};
use crate::run::RunContext;

/// The endpoint used when neither the builder nor the
/// `OTEL_EXPORTER_OTLP_ENDPOINT` environment variable names one.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
/// The name [`OtlpExporter::register`] registers the hook under.
const HOOK_NAME: &str = "otlp";
/// The largest response body read from a collector.
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// How many ended runs are remembered, so that a late event of an ended run
/// does not open (and export) its span a second time.
const ENDED_RUNS_KEPT: usize = 4096;

/// An [`EventCenter`] hook that exports events to an OpenTelemetry collector
/// over OTLP/HTTP (protobuf).
///
/// Each event becomes a **log record**: its timestamp, a severity from its
/// level, the message (or the event type) as body, and attributes:
///
/// | attribute | from |
/// | --- | --- |
/// | `event_center.event_type`, `event_center.event_id`, `event_center.source`, `event_center.seq` | the event |
/// | `event_center.payload`, `event_center.meta` | the payload and meta, as JSON text (exact, any shape) |
/// | `exception.type`, `exception.message` | the event's error |
/// | `event_center.run_id`, `.run_kind`, `.parent_run_id`, `.root_run_id`, `.session_id`, `.agent_id`, `.agent_name`, `.response_id`, `.execution_id` | the run, its real ids |
/// | `gen_ai.conversation.id`, `gen_ai.agent.name`, `gen_ai.agent.id`, `gen_ai.response.id` | the run's session, agent and response ids |
/// | `gen_ai.request.model` | the payload's `request_model`, `model` or `model_name` |
/// | `gen_ai.response.model` | the payload's `response_model`; for a `model.*` completion event (`completed`, `responded`, `response`, `done`) also `model` or `model_name` |
/// | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` | `input_tokens` or `prompt_tokens`, `output_tokens` or `completion_tokens`, in the payload or its `usage` or `token_usage` object |
/// | `gen_ai.operation.name` | `chat` for `model.*` events, `execute_tool` for `tool.*` events |
///
/// The record's trace context follows the run lineage: the **trace id** is
/// the `root_run_id` (used as is when it is 32 hex digits, as generated run
/// ids are; otherwise a stable hash of it) and the **span id** comes from
/// the `run_id` (its low 16 hex digits, or a stable hash), so records attach
/// to their run's span.
///
/// Each run becomes a **span** (unless
/// [`with_spans(false)`](OtlpExporterBuilder::with_spans)): it starts at the
/// run's first event and ends at the first event of that run whose type's
/// last dotted segment is a terminal one (`completed`, `failed`, `finished`,
/// `cancelled`, `canceled`, `ended`; see
/// [`with_span_end_suffixes`](OtlpExporterBuilder::with_span_end_suffixes)),
/// or, for runs still open, at [`shutdown`](OtlpExporter::shutdown), ending
/// at the run's last event. Its name is the run kind, its parent span the
/// `parent_run_id`'s, its status an error when the ending event is an error
/// (level ERROR or above, an `error`, or a `failed` type); it carries the
/// run's real ids and the GenAI attributes last seen on its events. A later
/// event of an ended run is still exported as a log record of that span.
///
/// Compatibility twins (`tool.*` mirrors of `action.*` events, see
/// [`Event::is_compat_twin`]) are skipped unless
/// [`with_compat_twins(true)`](OtlpExporterBuilder::with_compat_twins).
///
/// Register it with [`register`](OtlpExporter::register): a background queue,
/// never the emit path. Export failures (an unreachable collector, an error
/// status) are returned as an [`OtlpError`] by the hook's next call, so the
/// center counts them ([`HookStats::failed`](crate::HookStats::failed)) and
/// reports `event_center.hook_failed`; the emitter goes on. Records wait in
/// the SDK's batch queue (see
/// [`with_batch_sizes`](OtlpExporterBuilder::with_batch_sizes)) and are
/// sent every [`with_batch_delay`](OtlpExporterBuilder::with_batch_delay),
/// when a batch is full, and on flush.
///
/// The `otlp` feature needs Rust 1.85 or newer (the protobuf types under
/// `opentelemetry-otlp` 0.33 use prost 0.14); the rest of the crate keeps
/// its own minimum.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, OtlpExporter, RunContext};
///
/// let center = EventCenter::new();
/// let guard = OtlpExporter::builder()
///     .with_endpoint("http://localhost:4318")
///     .with_service_name("travel-agent")
///     .build()?
///     .register(&center)?;
///
/// let run = RunContext::new("agent_execution").with_session_id("conversation-1");
/// center.emitter("Agent").with_run(run).emit("agent.started").send();
///
/// guard.shutdown()?; // delivers what is queued, ends open spans, sends the rest
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OtlpExporter {
    inner: Arc<Inner>,
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &self.inner.endpoint)
            .field("spans", &self.inner.spans.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    endpoint: String,
    logger: SdkLogger,
    logs: SdkLoggerProvider,
    spans: Option<BatchSpanProcessor>,
    scope: InstrumentationScope,
    runs: Mutex<Runs>,
    failures: Arc<Failures>,
    compat_twins: bool,
    end_suffixes: Vec<String>,
    shut_down: AtomicBool,
}

impl OtlpExporter {
    /// A builder with the defaults: the endpoint from
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `http://localhost:4318`, service name
    /// `event-center`, runs as spans, batches sent every second.
    ///
    /// ```
    /// let exporter = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exporter.endpoint(), "http://127.0.0.1:4318");
    /// ```
    pub fn builder() -> OtlpExporterBuilder {
        OtlpExporterBuilder::new()
    }

    /// The options [`register`](OtlpExporter::register) uses: a background
    /// queue of [`DEFAULT_CAPACITY`] events that drops the oldest when full,
    /// so a slow collector never slows the emitter. For registering the
    /// exporter by hand under another name or pattern.
    ///
    /// ```
    /// use event_center::{Delivery, EventCenter, OtlpExporter};
    ///
    /// assert!(matches!(OtlpExporter::hook_options().delivery(), Delivery::Background { .. }));
    /// let center = EventCenter::new();
    /// let exporter = OtlpExporter::builder().with_endpoint("http://127.0.0.1:4318").build().unwrap();
    /// center
    ///     .register_hook_with("otel-models", "model.*", OtlpExporter::hook_options(), exporter.clone())
    ///     .unwrap();
    /// ```
    pub fn hook_options() -> HookOptions {
        HookOptions::new()
            .with_delivery(Delivery::background(DEFAULT_CAPACITY, Overflow::DropOldest))
    }

    /// Registers the exporter on `center` as hook `otlp` for every event
    /// (`*`), with [`hook_options`](OtlpExporter::hook_options), and returns
    /// the guard that flushes and shuts it down.
    ///
    /// ```
    /// use event_center::{EventCenter, OtlpExporter};
    ///
    /// let center = EventCenter::new();
    /// let exporter = OtlpExporter::builder().with_endpoint("http://127.0.0.1:4318").build().unwrap();
    /// let guard = exporter.register(&center).unwrap();
    /// assert_eq!(center.hook_names(), vec!["otlp".to_string()]);
    /// drop(guard); // nothing was emitted, so nothing is sent
    /// assert!(center.hook_names().is_empty());
    /// ```
    pub fn register(self, center: &EventCenter) -> Result<OtlpGuard, RegisterError> {
        center.register_hook_with(HOOK_NAME, "*", Self::hook_options(), self.clone())?;
        Ok(OtlpGuard {
            center: center.clone(),
            name: HOOK_NAME.to_owned(),
            exporter: self,
            timeout: Duration::from_secs(10),
            done: false,
        })
    }

    /// The collector's base URL (without `/v1/logs` or `/v1/traces`).
    ///
    /// ```
    /// let exporter = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318/")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exporter.endpoint(), "http://127.0.0.1:4318");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Sends the log records and ended spans handed over so far, and
    /// returns the export failures not reported yet. Open runs stay open.
    /// Events still in the hook's queue are not waited for: use
    /// [`OtlpGuard::flush`] (or [`EventCenter::flush`] first).
    ///
    /// ```no_run
    /// # let exporter = event_center::OtlpExporter::builder().build().unwrap();
    /// if let Err(error) = exporter.flush() {
    ///     eprintln!("{error}");
    /// }
    /// ```
    pub fn flush(&self) -> Result<(), OtlpError> {
        let logs = self.inner.logs.force_flush();
        let spans = match &self.inner.spans {
            Some(spans) => spans.force_flush(),
            None => Ok(()),
        };
        self.inner.result_after(logs.and(spans))
    }

    /// Ends every open run's span at its last event, sends everything, and
    /// stops the exporter's threads; events handed over afterwards are
    /// refused with an error. Returns the failures not reported yet. Called
    /// by [`OtlpGuard`] and when the last handle is dropped; a second call
    /// does nothing.
    ///
    /// ```no_run
    /// # let exporter = event_center::OtlpExporter::builder().build().unwrap();
    /// exporter.shutdown()?;
    /// # Ok::<(), event_center::OtlpError>(())
    /// ```
    pub fn shutdown(&self) -> Result<(), OtlpError> {
        self.inner.shutdown()
    }
}

impl Hook for OtlpExporter {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        let inner = &*self.inner;
        if inner.shut_down.load(Ordering::Acquire) {
            return Err(OtlpError::new(
                OtlpErrorKind::ShutDown,
                format!(
                    "the OTLP exporter for {} is shut down, so event {} was not exported: \
                     unregister the hook before shutting the exporter down",
                    inner.endpoint, event.event_type
                ),
            )
            .into());
        }
        if event.is_compat_twin() && !inner.compat_twins {
            return inner.pending_failures().map_err(Into::into);
        }
        let genai = GenAi::of(event);
        inner.emit_log(event, &genai);
        if let (Some(spans), Some(run)) = (&inner.spans, &event.run) {
            if let Some(span) = inner.track_run(run, event, genai) {
                spans.on_end(span);
            }
        }
        inner.pending_failures().map_err(Into::into)
    }
}

impl Inner {
    fn emit_log(&self, event: &Event, genai: &GenAi) {
        let mut record = self.logger.create_log_record();
        record.set_timestamp(system_time(event.timestamp));
        record.set_observed_timestamp(SystemTime::now());
        record.set_severity_number(severity(event.level));
        record.set_severity_text(event.level.as_str());
        let body = event.message.as_deref().unwrap_or(&event.event_type);
        record.set_body(AnyValue::String(body.to_owned().into()));
        record.add_attribute("event_center.event_type", event.event_type.to_string());
        record.add_attribute("event_center.event_id", event.event_id.to_string());
        record.add_attribute("event_center.source", event.source.to_string());
        if event.seq > 0 {
            record.add_attribute(
                "event_center.seq",
                i64::try_from(event.seq).unwrap_or(i64::MAX),
            );
        }
        if !event.payload.is_null() {
            record.add_attribute("event_center.payload", event.payload.to_string());
        }
        if !event.meta.is_empty() {
            record.add_attribute(
                "event_center.meta",
                Value::Object((*event.meta).clone()).to_string(),
            );
        }
        if let Some(error) = &event.error {
            record.add_attribute("exception.type", error.error_type.clone());
            record.add_attribute("exception.message", error.message.clone());
        }
        if let Some(run) = &event.run {
            for (key, value) in run_attributes(run) {
                record.add_attribute(key, value);
            }
            record.set_trace_context(
                trace_id(run.root_id()),
                span_id(&run.run_id),
                Some(TraceFlags::SAMPLED),
            );
        }
        if let Some(operation) = operation_of_event(&event.event_type) {
            record.add_attribute("gen_ai.operation.name", operation);
        }
        for kv in genai.attributes() {
            record.add_attribute(kv.key, to_any(kv.value));
        }
        self.logger.emit(record);
    }

    /// Notes `event` in its run's span; returns the span when the event ends
    /// the run.
    fn track_run(&self, run: &Arc<RunContext>, event: &Event, genai: GenAi) -> Option<SpanData> {
        let mut runs = lock(&self.runs);
        if runs.ended.contains(&run.run_id) {
            return None;
        }
        let open = runs
            .open
            .entry(run.run_id.clone())
            .or_insert_with(|| OpenRun {
                run: run.clone(),
                start: event.timestamp,
                last: event.timestamp,
                genai: GenAi::default(),
            });
        open.last = open.last.max(event.timestamp);
        open.genai.merge(genai);
        if !self.is_terminal(&event.event_type) {
            return None;
        }
        let open = runs.open.remove(&run.run_id)?;
        runs.remember_ended(run.run_id.clone());
        drop(runs);
        let status = if is_failure(event) {
            let description = event
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.error_type, e.message))
                .or_else(|| event.message.as_deref().map(str::to_owned))
                .unwrap_or_else(|| event.event_type.to_string());
            Status::error(description)
        } else {
            Status::Ok
        };
        Some(self.span_of(open, status))
    }

    fn is_terminal(&self, event_type: &str) -> bool {
        let last = event_type.rsplit('.').next().unwrap_or(event_type);
        self.end_suffixes.iter().any(|s| s == last)
    }

    fn span_of(&self, open: OpenRun, status: Status) -> SpanData {
        let run = &open.run;
        let parent_span_id = run
            .parent_run_id
            .as_deref()
            .map(span_id)
            .unwrap_or(SpanId::INVALID);
        let mut attributes: Vec<KeyValue> = run_attributes(run)
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect();
        if let Some(operation) = operation_of_run(&run.run_kind) {
            attributes.push(KeyValue::new("gen_ai.operation.name", operation));
        }
        attributes.extend(open.genai.attributes());
        SpanData {
            span_context: SpanContext::new(
                trace_id(run.root_id()),
                span_id(&run.run_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: run.run_kind.clone().into(),
            start_time: system_time(open.start),
            end_time: system_time(open.last),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: self.scope.clone(),
        }
    }

    fn shutdown(&self) -> Result<(), OtlpError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let open: Vec<OpenRun> = {
            let mut runs = lock(&self.runs);
            let mut open: Vec<OpenRun> = runs.open.drain().map(|(_, run)| run).collect();
            open.sort_by_key(|run| run.start);
            open
        };
        let spans = match &self.spans {
            Some(spans) => {
                for run in open {
                    spans.on_end(self.span_of(run, Status::Unset));
                }
                spans.shutdown()
            }
            None => Ok(()),
        };
        let logs = self.logs.shutdown();
        self.result_after(logs.and(spans))
    }

    /// The failures noted by the exporters, else `sdk`'s own error.
    fn result_after(&self, sdk: OTelSdkResult) -> Result<(), OtlpError> {
        self.pending_failures()?;
        sdk.map_err(|error| {
            OtlpError::new(
                OtlpErrorKind::Export,
                format!(
                    "flushing the OTLP export to {} failed: {error}",
                    self.endpoint
                ),
            )
        })
    }

    fn pending_failures(&self) -> Result<(), OtlpError> {
        match self.failures.take() {
            Some(message) => Err(OtlpError::new(
                OtlpErrorKind::Export,
                format!(
                    "{message}; check that an OpenTelemetry collector accepts OTLP/HTTP at {} \
                     (usually port 4318)",
                    self.endpoint
                ),
            )),
            None => Ok(()),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

#[derive(Default)]
struct Runs {
    open: HashMap<String, OpenRun>,
    ended: HashSet<String>,
    ended_order: VecDeque<String>,
}

impl Runs {
    fn remember_ended(&mut self, run_id: String) {
        if self.ended_order.len() == ENDED_RUNS_KEPT {
            if let Some(oldest) = self.ended_order.pop_front() {
                self.ended.remove(&oldest);
            }
        }
        self.ended.insert(run_id.clone());
        self.ended_order.push_back(run_id);
    }
}

struct OpenRun {
    run: Arc<RunContext>,
    start: i64,
    last: i64,
    genai: GenAi,
}

/// The GenAI semantic-convention values an event's payload carries.
#[derive(Default)]
struct GenAi {
    request_model: Option<String>,
    response_model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
}

impl GenAi {
    fn of(event: &Event) -> GenAi {
        let Value::Object(payload) = &event.payload else {
            return GenAi::default();
        };
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| payload.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let model = text(&["model", "model_name"]);
        let is_completion = event.event_type.starts_with("model.")
            && matches!(
                event.event_type.rsplit('.').next(),
                Some("completed" | "responded" | "response" | "done")
            );
        let usage = [
            Some(payload),
            object(payload, "usage"),
            object(payload, "token_usage"),
        ];
        let count = |keys: &[&str]| {
            usage
                .iter()
                .flatten()
                .find_map(|map| keys.iter().find_map(|k| map.get(*k).and_then(as_count)))
        };
        GenAi {
            request_model: text(&["request_model"]).or_else(|| model.clone()),
            response_model: text(&["response_model"]).or(model.filter(|_| is_completion)),
            input_tokens: count(&["input_tokens", "prompt_tokens"]),
            output_tokens: count(&["output_tokens", "completion_tokens"]),
        }
    }

    fn merge(&mut self, newer: GenAi) {
        self.request_model = newer.request_model.or(self.request_model.take());
        self.response_model = newer.response_model.or(self.response_model.take());
        self.input_tokens = newer.input_tokens.or(self.input_tokens);
        self.output_tokens = newer.output_tokens.or(self.output_tokens);
    }

    fn attributes(&self) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if let Some(model) = &self.request_model {
            out.push(KeyValue::new("gen_ai.request.model", model.clone()));
        }
        if let Some(model) = &self.response_model {
            out.push(KeyValue::new("gen_ai.response.model", model.clone()));
        }
        if let Some(tokens) = self.input_tokens {
            out.push(KeyValue::new("gen_ai.usage.input_tokens", tokens));
        }
        if let Some(tokens) = self.output_tokens {
            out.push(KeyValue::new("gen_ai.usage.output_tokens", tokens));
        }
        out
    }
}

fn object<'a>(map: &'a crate::event::JsonMap, key: &str) -> Option<&'a crate::event::JsonMap> {
    map.get(key).and_then(Value::as_object)
}

fn as_count(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < i64::MAX as f64)
            .map(|f| f as i64)
    })
}

fn to_any(value: OtelValue) -> AnyValue {
    match value {
        OtelValue::Bool(b) => AnyValue::Boolean(b),
        OtelValue::I64(i) => AnyValue::Int(i),
        OtelValue::F64(f) => AnyValue::Double(f),
        OtelValue::String(s) => AnyValue::String(s),
        other => AnyValue::String(StringValue::from(other.to_string())),
    }
}

/// The run's real ids and names as `event_center.*` attributes, and the
/// GenAI ones they map to.
fn run_attributes(run: &RunContext) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("event_center.run_id", run.run_id.clone()),
        ("event_center.run_kind", run.run_kind.clone()),
        ("event_center.root_run_id", run.root_id().to_owned()),
    ];
    let optional = [
        ("event_center.parent_run_id", &run.parent_run_id),
        ("event_center.session_id", &run.session_id),
        ("event_center.agent_id", &run.agent_id),
        ("event_center.agent_name", &run.agent_name),
        ("event_center.response_id", &run.response_id),
        ("event_center.execution_id", &run.execution_id),
        ("gen_ai.conversation.id", &run.session_id),
        ("gen_ai.agent.id", &run.agent_id),
        ("gen_ai.agent.name", &run.agent_name),
        ("gen_ai.response.id", &run.response_id),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.push((key, value.clone()));
        }
    }
    out
}

fn operation_of_event(event_type: &str) -> Option<&'static str> {
    match event_type.split('.').next() {
        Some("model") => Some("chat"),
        Some("tool") => Some("execute_tool"),
        _ => None,
    }
}

fn operation_of_run(run_kind: &str) -> Option<&'static str> {
    match run_kind {
        "model_request" => Some("chat"),
        "agent_execution" => Some("invoke_agent"),
        "action" | "tool" | "tool_call" | "action_call" => Some("execute_tool"),
        _ => None,
    }
}

fn is_failure(event: &Event) -> bool {
    event.level >= Level::Error
        || event.error.is_some()
        || event
            .event_type
            .rsplit('.')
            .next()
            .is_some_and(|s| s.ends_with("failed"))
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Debug => Severity::Debug,
        Level::Info => Severity::Info,
        Level::Warning => Severity::Warn,
        Level::Error => Severity::Error,
        Level::Critical => Severity::Fatal,
    }
}

fn system_time(millis: i64) -> SystemTime {
    let millis = u64::try_from(millis).unwrap_or(0);
    UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .unwrap_or(UNIX_EPOCH)
}

/// The trace id of a run tree: its root run id as 16 bytes when it is 32
/// hex digits (a generated run id), else a stable hash of it.
fn trace_id(root_run_id: &str) -> TraceId {
    let id = parse_hex128(root_run_id)
        .filter(|id| *id != 0)
        .unwrap_or_else(|| {
            let high = fnv1a(root_run_id.as_bytes(), 0xcbf2_9ce4_8422_2325);
            let low = fnv1a(root_run_id.as_bytes(), 0x6c62_272e_07bb_0142);
            (u128::from(high) << 64 | u128::from(low)).max(1)
        });
    TraceId::from_bytes(id.to_be_bytes())
}

/// The span id of a run: the low 8 bytes of its id when it is 32 hex digits
/// (random in a generated id), else a stable hash of it.
fn span_id(run_id: &str) -> SpanId {
    let id = parse_hex128(run_id)
        .map(|id| id as u64)
        .filter(|id| *id != 0)
        .unwrap_or_else(|| fnv1a(run_id.as_bytes(), 0xcbf2_9ce4_8422_2325).max(1));
    SpanId::from_bytes(id.to_be_bytes())
}

fn parse_hex128(text: &str) -> Option<u128> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

fn fnv1a(bytes: &[u8], offset: u64) -> u64 {
    bytes.iter().fold(offset, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds an [`OtlpExporter`].
///
/// ```
/// use std::time::Duration;
/// use event_center::OtlpExporter;
///
/// let exporter = OtlpExporter::builder()
///     .with_endpoint("https://collector.example:4318")
///     .with_service_name("travel-agent")
///     .with_resource_attribute("deployment.environment.name", "staging")
///     .with_header("authorization", "Bearer abc")
///     .with_timeout(Duration::from_secs(5))
///     .with_batch_delay(Duration::from_millis(500))
///     .build()
///     .unwrap();
/// assert_eq!(exporter.endpoint(), "https://collector.example:4318");
/// ```
#[derive(Clone, Debug)]
pub struct OtlpExporterBuilder {
    endpoint: Option<String>,
    service_name: String,
    resource: Vec<(String, String)>,
    headers: HashMap<String, String>,
    timeout: Duration,
    batch_delay: Duration,
    max_batch: usize,
    max_queue: usize,
    retries: usize,
    spans: bool,
    compat_twins: bool,
    end_suffixes: Vec<String>,
}

impl Default for OtlpExporterBuilder {
    fn default() -> Self {
        OtlpExporterBuilder::new()
    }
}

impl OtlpExporterBuilder {
    /// The defaults (see [`OtlpExporter::builder`]).
    ///
    /// ```
    /// let builder = event_center::OtlpExporterBuilder::new();
    /// # let _ = builder;
    /// ```
    pub fn new() -> Self {
        OtlpExporterBuilder {
            endpoint: None,
            service_name: "event-center".to_owned(),
            resource: Vec::new(),
            headers: HashMap::new(),
            timeout: Duration::from_secs(10),
            batch_delay: Duration::from_secs(1),
            max_batch: 512,
            max_queue: 2048,
            retries: 3,
            spans: true,
            compat_twins: false,
            end_suffixes: [
                "completed",
                "failed",
                "finished",
                "cancelled",
                "canceled",
                "ended",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }

    /// The collector's base URL, `http://` or `https://`; records go to
    /// `{endpoint}/v1/logs` and spans to `{endpoint}/v1/traces`. Default:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318`.
    ///
    /// ```
    /// let err = event_center::OtlpExporter::builder().with_endpoint("localhost:4318").build().unwrap_err();
    /// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidEndpoint);
    /// ```
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The `service.name` resource attribute (default `event-center`).
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_service_name("travel-agent");
    /// # let _ = builder;
    /// ```
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// Adds a resource attribute, sent with every batch.
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder()
    ///     .with_resource_attribute("service.version", "1.4.0");
    /// # let _ = builder;
    /// ```
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// Adds an HTTP header to every export request (an API key, for
    /// instance). `OTEL_EXPORTER_OTLP_HEADERS` is read too.
    ///
    /// ```
    /// let err = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .with_header("bad header", "x")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidHeader);
    /// ```
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// How long one export request may take (default 10 s).
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_timeout(std::time::Duration::from_secs(3));
    /// # let _ = builder;
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long records wait for a batch to fill before it is sent anyway
    /// (default 1 s).
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_batch_delay(std::time::Duration::from_millis(200));
    /// # let _ = builder;
    /// ```
    pub fn with_batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay;
        self
    }

    /// The most records (or spans) in one request (default 512) and the
    /// most waiting to be sent (default 2048; beyond it the SDK drops new
    /// ones). The queue is made at least as large as the batch.
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_batch_sizes(128, 4096);
    /// # let _ = builder;
    /// ```
    pub fn with_batch_sizes(mut self, max_batch: usize, max_queue: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self.max_queue = max_queue.max(self.max_batch);
        self
    }

    /// How many times a failed request is retried with backoff (default 3;
    /// 0 sends each batch once).
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_retries(0);
    /// # let _ = builder;
    /// ```
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Whether runs are exported as spans (default `true`); with `false`
    /// only log records are sent, still carrying their run's trace context.
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_spans(false);
    /// # let _ = builder;
    /// ```
    pub fn with_spans(mut self, spans: bool) -> Self {
        self.spans = spans;
        self
    }

    /// Whether compatibility twins (see [`Event::is_compat_twin`]) are
    /// exported too (default `false`: each occurrence once).
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder().with_compat_twins(true);
    /// # let _ = builder;
    /// ```
    pub fn with_compat_twins(mut self, twins: bool) -> Self {
        self.compat_twins = twins;
        self
    }

    /// The last dotted segments of the event types that end their run's
    /// span (default `completed`, `failed`, `finished`, `cancelled`,
    /// `canceled`, `ended`). Runs not ended this way end at shutdown.
    ///
    /// ```
    /// let builder = event_center::OtlpExporter::builder()
    ///     .with_span_end_suffixes(["execution_completed", "execution_failed"]);
    /// # let _ = builder;
    /// ```
    pub fn with_span_end_suffixes<I, S>(mut self, suffixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.end_suffixes = suffixes.into_iter().map(Into::into).collect();
        self
    }

    /// Builds the exporter and starts its batch threads (one for records,
    /// one for spans). Fails on an endpoint that is not an `http://` or
    /// `https://` URL, or a header that HTTP does not allow.
    ///
    /// ```
    /// let exporter = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .build();
    /// assert!(exporter.is_ok());
    /// ```
    pub fn build(self) -> Result<OtlpExporter, OtlpError> {
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let endpoint = validate_endpoint(&endpoint)?;
        for (name, value) in &self.headers {
            validate_header(name, value)?;
        }
        let failures = Arc::new(Failures::default());
        let agent = ureq::AgentBuilder::new().timeout(self.timeout).build();
        let client = Arc::new(UreqClient {
            agent,
            failures: failures.clone(),
        });
        let retry = if self.retries == 0 {
            RetryPolicy::disabled()
        } else {
            RetryPolicy::recommended().with_max_retries(self.retries)
        };
        let setup = |signal: &str, error: &dyn fmt::Display| {
            OtlpError::new(
                OtlpErrorKind::Setup,
                format!("could not set up the OTLP {signal} exporter for {endpoint}: {error}"),
            )
        };

        let mut resource = Resource::builder_empty().with_service_name(self.service_name.clone());
        for (key, value) in &self.resource {
            resource = resource.with_attribute(KeyValue::new(key.clone(), value.clone()));
        }
        let resource = resource.build();
        let scope = InstrumentationScope::builder("event-center")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();

        let log_exporter = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_endpoint(format!("{endpoint}/v1/logs"))
            .with_timeout(self.timeout)
            .with_headers(self.headers.clone())
            .with_retry_policy(retry.clone())
            .with_shared_http_client(client.clone())
            .build()
            .map_err(|e| setup("log", &e))?;
        let log_processor = BatchLogProcessor::builder(Counted {
            inner: log_exporter,
            what: "log records",
            url: format!("{endpoint}/v1/logs"),
            failures: failures.clone(),
        })
        .with_batch_config(
            LogBatchConfig::default()
                .with_scheduled_delay(self.batch_delay)
                .with_max_export_batch_size(self.max_batch)
                .with_max_queue_size(self.max_queue)
                .build(),
        )
        .build();
        let logs = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_log_processor(log_processor)
            .build();
        let logger = logs.logger_with_scope(scope.clone());

        let spans = if self.spans {
            let span_exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{endpoint}/v1/traces"))
                .with_timeout(self.timeout)
                .with_headers(self.headers.clone())
                .with_retry_policy(retry)
                .with_shared_http_client(client)
                .build()
                .map_err(|e| setup("span", &e))?;
            let mut processor = BatchSpanProcessor::builder(Counted {
                inner: span_exporter,
                what: "spans",
                url: format!("{endpoint}/v1/traces"),
                failures: failures.clone(),
            })
            .with_batch_config(
                SpanBatchConfig::default()
                    .with_scheduled_delay(self.batch_delay)
                    .with_max_export_batch_size(self.max_batch)
                    .with_max_queue_size(self.max_queue)
                    .build(),
            )
            .build();
            processor.set_resource(&resource);
            Some(processor)
        } else {
            None
        };

        Ok(OtlpExporter {
            inner: Arc::new(Inner {
                endpoint,
                logger,
                logs,
                spans,
                scope,
                runs: Mutex::new(Runs::default()),
                failures,
                compat_twins: self.compat_twins,
                end_suffixes: self.end_suffixes,
                shut_down: AtomicBool::new(false),
            }),
        })
    }
}

fn validate_endpoint(endpoint: &str) -> Result<String, OtlpError> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(host) if !host.is_empty() && !trimmed.contains(char::is_whitespace) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(OtlpError::new(
            OtlpErrorKind::InvalidEndpoint,
            format!(
                "the OTLP endpoint {endpoint:?} is not an http:// or https:// URL with a host: \
                 give the collector's base URL, such as http://localhost:4318"
            ),
        )),
    }
}

fn validate_header(name: &str, value: &str) -> Result<(), OtlpError> {
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let value_ok = value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(OtlpError::new(
            OtlpErrorKind::InvalidHeader,
            format!(
                "the OTLP header {name:?} is not a valid HTTP header (names are tokens without \
                 spaces, values printable ASCII): fix it or leave it out"
            ),
        ))
    }
}

/// Export failures noted by the exporters' threads, until the hook (or a
/// flush) reports them.
#[derive(Debug, Default)]
struct Failures {
    state: Mutex<FailureState>,
}

#[derive(Debug, Default)]
struct FailureState {
    /// Failed batches not reported yet, and their item counts.
    batches: u64,
    items: u64,
    last: Option<String>,
    /// The last transport error of the HTTP client (the SDK only says
    /// "network error").
    transport: Option<String>,
}

impl Failures {
    fn record(&self, what: &str, url: &str, items: usize, error: &dyn fmt::Display) {
        let mut state = lock(&self.state);
        let cause = match state.transport.take() {
            Some(transport) => format!("{error} ({transport})"),
            None => error.to_string(),
        };
        state.batches += 1;
        state.items += items as u64;
        state.last = Some(format!("exporting {items} {what} to {url} failed: {cause}"));
    }

    fn transport(&self, error: String) {
        lock(&self.state).transport = Some(error);
    }

    fn take(&self) -> Option<String> {
        let mut state = lock(&self.state);
        let last = state.last.take()?;
        let message = if state.batches > 1 {
            format!(
                "{} OTLP exports ({} items) failed; the last: {last}",
                state.batches, state.items
            )
        } else {
            last
        };
        state.batches = 0;
        state.items = 0;
        Some(message)
    }
}

/// An exporter that notes its failures in [`Failures`].
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    what: &'static str,
    url: String,
    failures: Arc<Failures>,
}

impl<E: LogExporter> LogExporter for Counted<E> {
    fn export(&self, batch: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
        let items = batch.iter().count();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            if let Err(error) = &result {
                self.failures.record(self.what, &self.url, items, error);
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let items = batch.len();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            if let Err(error) = &result {
                self.failures.record(self.what, &self.url, items, error);
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The HTTP client of the exporters: a blocking ureq agent (the SDK's batch
/// threads are plain threads, so blocking there is fine and needs no
/// runtime).
#[derive(Debug)]
struct UreqClient {
    agent: ureq::Agent,
    failures: Arc<Failures>,
}

impl UreqClient {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut call = self
            .agent
            .request(parts.method.as_str(), &parts.uri.to_string());
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                call = call.set(name.as_str(), value);
            }
        }
        let response = match call.send_bytes(&body) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(error)) => {
                self.failures.transport(error.to_string());
                return Err(Box::new(error));
            }
        };
        let status = response.status();
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MAX_RESPONSE_BYTES)
            .read_to_end(&mut bytes)?;
        Ok(Response::builder()
            .status(status)
            .body(Bytes::from(bytes))?)
    }
}

// `HttpClient` is an `async_trait` trait; this is its expanded signature.
// The request is sent when called (the batch threads call it from a
// blocking executor), and the ready result is returned as the future.
impl HttpClient for UreqClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(std::future::ready(self.send(request)))
    }
}

/// Keeps an [`OtlpExporter`] registered on a center, like a tracing
/// appender's guard: [`flush`](OtlpGuard::flush) sends what was emitted so
/// far, and [`shutdown`](OtlpGuard::shutdown) (or dropping the guard)
/// delivers the hook's queue, unregisters the hook, ends the open runs'
/// spans and sends everything.
///
/// ```no_run
/// use event_center::{EventCenter, OtlpExporter};
///
/// let center = EventCenter::new();
/// let _guard = OtlpExporter::builder().build()?.register(&center)?;
/// center.emitter("Agent").emit("agent.started").send();
/// // dropping `_guard` at the end of main sends the rest
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard unregisters the exporter at once"]
pub struct OtlpGuard {
    center: EventCenter,
    name: String,
    exporter: OtlpExporter,
    timeout: Duration,
    done: bool,
}

impl fmt::Debug for OtlpGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpGuard")
            .field("name", &self.name)
            .field("exporter", &self.exporter)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OtlpGuard {
    /// Sets how long [`flush`](OtlpGuard::flush) and
    /// [`shutdown`](OtlpGuard::shutdown) wait for the hook's queue (default
    /// 10 s).
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder()
    ///     .build()?
    ///     .register(&center)?
    ///     .with_timeout(std::time::Duration::from_secs(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The exporter.
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder().build()?.register(&center)?;
    /// println!("exporting to {}", guard.exporter().endpoint());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exporter(&self) -> &OtlpExporter {
        &self.exporter
    }

    /// Waits for the hook's queue (see [`EventCenter::flush`]), then sends
    /// the records and ended spans ([`OtlpExporter::flush`]); returns the
    /// export failures not reported yet.
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder().build()?.register(&center)?;
    /// center.emitter("Agent").emit("agent.started").send();
    /// guard.flush()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<(), OtlpError> {
        let report = self.center.flush(self.timeout);
        self.exporter.flush()?;
        if report.is_complete() {
            Ok(())
        } else {
            Err(self.not_drained(report.pending))
        }
    }

    /// Waits for the hook's queue, unregisters the hook, ends the open
    /// runs' spans and sends everything; returns the export failures not
    /// reported yet.
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder().build()?.register(&center)?;
    /// guard.shutdown()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self) -> Result<(), OtlpError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), OtlpError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let report = self.center.flush(self.timeout);
        self.center.unregister_hook(&self.name);
        self.exporter.shutdown()?;
        if report.is_complete() {
            Ok(())
        } else {
            Err(self.not_drained(report.pending))
        }
    }

    fn not_drained(&self, pending: u64) -> OtlpError {
        OtlpError::new(
            OtlpErrorKind::Timeout,
            format!(
                "{pending} events were still queued for the center's hooks after {:?}; \
                 give the guard a longer timeout with with_timeout",
                self.timeout
            ),
        )
    }
}

impl Drop for OtlpGuard {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// What went wrong in the OpenTelemetry export: what was wrong and what to
/// do, in its message.
///
/// ```
/// let err = event_center::OtlpExporter::builder().with_endpoint("ftp://x").build().unwrap_err();
/// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidEndpoint);
/// assert!(err.to_string().contains("http://localhost:4318"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpError {
    kind: OtlpErrorKind,
    message: String,
}

/// The kind of an [`OtlpError`].
///
/// ```
/// use event_center::OtlpErrorKind;
/// assert_ne!(OtlpErrorKind::Export, OtlpErrorKind::InvalidEndpoint);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtlpErrorKind {
    /// The endpoint is not an `http://` or `https://` URL with a host.
    InvalidEndpoint,
    /// A header name or value that HTTP does not allow.
    InvalidHeader,
    /// The SDK's exporter could not be set up.
    Setup,
    /// Sending to the collector failed (unreachable, an error status, a
    /// timeout).
    Export,
    /// An event reached an exporter that was already shut down.
    ShutDown,
    /// The hook's queue was not drained within the guard's timeout.
    Timeout,
}

impl OtlpError {
    fn new(kind: OtlpErrorKind, message: String) -> Self {
        OtlpError { kind, message }
    }

    /// The kind of failure.
    ///
    /// ```
    /// let err = event_center::OtlpExporter::builder().with_endpoint("").build();
    /// # let _ = err;
    /// ```
    pub fn kind(&self) -> OtlpErrorKind {
        self.kind
    }
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OtlpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_run_ids_are_used_as_trace_and_span_ids() {
        let id = "cce16a03a96d49feb07a36cff1d25a28";
        assert_eq!(trace_id(id).to_string(), id);
        assert_eq!(span_id(id).to_string(), "b07a36cff1d25a28");
        let dashed = "cce16a03-a96d-49fe-b07a-36cff1d25a28";
        assert_eq!(trace_id(dashed).to_string(), id);
    }

    #[test]
    fn other_run_ids_hash_stably_and_never_to_zero() {
        assert_eq!(trace_id("run-1"), trace_id("run-1"));
        assert_ne!(trace_id("run-1"), trace_id("run-2"));
        assert_ne!(span_id("run-1"), span_id("run-2"));
        assert_ne!(trace_id(""), TraceId::INVALID);
        assert_ne!(span_id("00000000000000000000000000000000"), SpanId::INVALID);
    }

    #[test]
    fn token_counts_are_found_in_the_payload_or_its_usage() {
        let event = Event::new("model.completed").with_payload(serde_json::json!({
            "model": "gpt-4o-mini",
            "usage": {"prompt_tokens": 12, "completion_tokens": 30.0}
        }));
        let genai = GenAi::of(&event);
        assert_eq!(genai.request_model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(genai.response_model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(
            (genai.input_tokens, genai.output_tokens),
            (Some(12), Some(30))
        );
        let request =
            Event::new("model.requesting").with_payload(serde_json::json!({"model": "m"}));
        assert_eq!(GenAi::of(&request).response_model, None);
    }

    #[test]
    fn endpoints_are_checked_and_trimmed() {
        assert_eq!(
            validate_endpoint("http://h:4318/").unwrap(),
            "http://h:4318"
        );
        for bad in ["h:4318", "http://", "ftp://h", "http://a b"] {
            assert_eq!(
                validate_endpoint(bad).unwrap_err().kind(),
                OtlpErrorKind::InvalidEndpoint,
                "{bad}"
            );
        }
    }
}
