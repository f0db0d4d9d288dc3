//! The exporter itself: the hook that hands events to the SDK's batch
//! processors, its own flush and shutdown, and its failure reporting.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use opentelemetry::trace::Status;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SpanProcessor};

use super::error::{OtlpError, OtlpErrorKind};
use super::records::GenAi;
use super::spans::{OpenRun, Runs};
use super::transport::Failures;
use super::{lock, OtlpExporterBuilder};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::sinks::registration::SinkEnd;

#[cfg(doc)]
use super::guard::OtlpGuard;
#[cfg(doc)]
use crate::center::EventCenter;

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
/// or, for runs still open, at the guard's
/// [`shutdown`](OtlpGuard::shutdown), ending at the run's last event. Its name is the run kind, its parent span the
/// `parent_run_id`'s, its status an error when the ending event is an error
/// (level ERROR or above, an `error`, or a `failed` type); it carries the
/// run's real ids and the GenAI attributes last seen on its events. A later
/// event of an ended run is still exported as a log record of that span.
///
/// Compatibility twins (`tool.*` mirrors of `action.*` events, see
/// [`Event::is_compat_twin`]) are skipped unless
/// [`with_compat_twins(true)`](OtlpExporterBuilder::with_compat_twins).
///
/// [`OtlpExporter::builder`] sets it up and
/// [`register`](OtlpExporterBuilder::register) registers it on a center
/// (on a background queue by default, never the emit path) and returns the
/// [`OtlpGuard`], the exporter's only handle. Export failures (an
/// unreachable collector, an error status) are returned as an
/// [`OtlpError`] by the hook's next call, so the center counts them
/// ([`HookStats::failed`](crate::HookStats::failed)) and reports
/// `event_center.hook_failed`, and [`OtlpStats`](crate::OtlpStats) count
/// them; the emitter goes on. Records wait in
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
///     .register(&center, "otlp")?;
///
/// let run = RunContext::new("agent_execution").with_session_id("conversation-1");
/// center.emitter("Agent").with_run(run).emit("agent.started").send();
///
/// // Delivers what is queued, ends open spans, sends the rest.
/// let report = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((report.delivered, report.failed), (1, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OtlpExporter {
    pub(super) inner: Arc<Inner>,
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("endpoint", &self.inner.endpoint)
            .field("spans", &self.inner.spans.is_some())
            .finish_non_exhaustive()
    }
}

pub(super) struct Inner {
    pub(super) endpoint: String,
    pub(super) logger: SdkLogger,
    pub(super) logs: SdkLoggerProvider,
    pub(super) spans: Option<BatchSpanProcessor>,
    pub(super) scope: InstrumentationScope,
    pub(super) runs: Mutex<Runs>,
    pub(super) failures: Arc<Failures>,
    pub(super) compat_twins: bool,
    pub(super) end_suffixes: Vec<String>,
    pub(super) shut_down: AtomicBool,
}

impl OtlpExporter {
    /// A builder with the defaults: the endpoint from
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `http://localhost:4318`, service name
    /// `event-center`, runs as spans, batches sent every second, every
    /// event on a background queue of [`DEFAULT_CAPACITY`](crate::DEFAULT_CAPACITY)
    /// events that drops the oldest when full.
    ///
    /// ```
    /// let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .register(&center, "otlp")
    ///     .unwrap();
    /// assert_eq!(guard.endpoint(), "http://127.0.0.1:4318");
    /// ```
    pub fn builder() -> OtlpExporterBuilder {
        OtlpExporterBuilder::new()
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
                     keep its guard alive while events should be exported",
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

impl SinkEnd for OtlpExporter {
    /// Sends the log records and ended spans handed over so far (open runs
    /// stay open); a failure is kept for the hook's next call.
    fn flush_own(&self, _deadline: Instant) {
        let inner = &*self.inner;
        let logs = inner.logs.force_flush();
        let spans = match &inner.spans {
            Some(spans) => spans.force_flush(),
            None => Ok(()),
        };
        inner.note(logs.and(spans), "flushing");
    }

    /// Ends every open run's span at its last event, sends everything, and
    /// stops the exporter's threads; events handed over afterwards are
    /// refused with an error.
    fn close(&self, _deadline: Instant) {
        let inner = &*self.inner;
        let result = inner.shutdown();
        inner.note(result, "shutting down");
    }
}

impl Inner {
    /// Notes what the SDK said of a flush or shutdown as a failure, unless
    /// the exporters noted one already.
    fn note(&self, sdk: OTelSdkResult, doing: &str) {
        if let Err(error) = sdk {
            self.failures.note(format!(
                "{doing} the OTLP export to {} failed: {error}",
                self.endpoint
            ));
        }
    }

    fn shutdown(&self) -> OTelSdkResult {
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
        logs.and(spans)
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
