//! The builder: the endpoint, headers, batching and retries, checked, and
//! the SDK's exporters and batch processors set up from them.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::logs::LoggerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::logs::{
    BatchConfigBuilder as LogBatchConfig, BatchLogProcessor, SdkLoggerProvider,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder as SpanBatchConfig, BatchSpanProcessor, SpanProcessor,
};
use opentelemetry_sdk::Resource;

use super::error::{OtlpError, OtlpErrorKind};
use super::exporter::{Inner, OtlpExporter};
use super::guard::OtlpGuard;
use super::spans::Runs;
use super::transport::{Counted, Failures, UreqClient};
use crate::center::EventCenter;
use crate::delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
use crate::pattern::Patterns;
use crate::sinks::registration::{Registration, DEFAULT_FLUSH_TIMEOUT};

#[cfg(doc)]
use crate::event::Event;

/// The endpoint used when neither the builder nor the
/// `OTEL_EXPORTER_OTLP_ENDPOINT` environment variable names one.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// Builds an [`OtlpExporter`] and registers it; see
/// [`OtlpExporter::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{EventCenter, OtlpExporter};
///
/// let center = EventCenter::new();
/// let guard = OtlpExporter::builder()
///     .with_endpoint("https://collector.example:4318")
///     .with_service_name("travel-agent")
///     .with_resource_attribute("deployment.environment.name", "staging")
///     .with_header("authorization", "Bearer abc")
///     .with_timeout(Duration::from_secs(5))
///     .with_batch_delay(Duration::from_millis(500))
///     .with_patterns(["agent.*", "model.*", "tool.*"])
///     .with_flush_timeout(Duration::from_secs(2))
///     .register(&center, "otlp")?;
/// assert_eq!(guard.endpoint(), "https://collector.example:4318");
/// # drop(guard); // nothing was emitted, so nothing is sent
/// # Ok::<(), event_center::OtlpError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until register() is called"]
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
    patterns: Patterns,
    delivery: Delivery,
    flush_timeout: Duration,
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
            patterns: Patterns::All,
            delivery: Delivery::background(DEFAULT_CAPACITY, Overflow::DropOldest),
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
    }

    /// The collector's base URL, `http://` or `https://`; records go to
    /// `{endpoint}/v1/logs` and spans to `{endpoint}/v1/traces`. Default:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318`.
    ///
    /// ```
    /// let err = event_center::OtlpExporter::builder()
    ///     .with_endpoint("localhost:4318")
    ///     .register(&event_center::EventCenter::new(), "otlp")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidEndpoint);
    /// ```
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The `service.name` resource attribute (default `event-center`).
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
    ///     .register(&event_center::EventCenter::new(), "otlp")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidHeader);
    /// ```
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// How long one export request may take (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long records wait for a batch to fill before it is sent anyway
    /// (default 1 s).
    pub fn with_batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay;
        self
    }

    /// The most records (or spans) in one request (default 512) and the
    /// most waiting to be sent (default 2048; beyond it the SDK drops new
    /// ones). The queue is made at least as large as the batch.
    pub fn with_batch_sizes(mut self, max_batch: usize, max_queue: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self.max_queue = max_queue.max(self.max_batch);
        self
    }

    /// How many times a failed request is retried with backoff (default 3;
    /// 0 sends each batch once).
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Whether runs are exported as spans (default `true`); with `false`
    /// only log records are sent, still carrying their run's trace context.
    pub fn with_spans(mut self, spans: bool) -> Self {
        self.spans = spans;
        self
    }

    /// Whether compatibility twins (see [`Event::is_compat_twin`]) are
    /// exported too (default `false`: each occurrence once).
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

    /// The event types exported (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes; a bad pattern is reported by
    /// [`register`](Self::register).
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// How the exporter's hook receives its events. Default:
    /// `Delivery::background(DEFAULT_CAPACITY, Overflow::DropOldest)`, so
    /// a slow collector never slows the emitter. The hook only hands each
    /// event to the SDK's batch queue, so [`Delivery::Inline`] works too.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How long dropping the [`OtlpGuard`] waits for the exporter's queue
    /// before it ends the open runs' spans and sends the rest (default 5 s).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Builds the exporter, starts its batch threads (one for records, one
    /// for spans) and registers it on `center` under `name`, with its
    /// patterns and delivery. Returns the guard, the exporter's only
    /// handle, which sends the rest and shuts the exporter down when
    /// dropped.
    ///
    /// # Errors
    ///
    /// An [`OtlpError`]: an endpoint that is not an `http://` or `https://`
    /// URL ([`OtlpErrorKind::InvalidEndpoint`]), a header that HTTP does not
    /// allow ([`OtlpErrorKind::InvalidHeader`]), an SDK exporter that cannot
    /// be set up ([`OtlpErrorKind::Setup`]), or the center refused the hook
    /// ([`OtlpErrorKind::Register`], with the center's error in
    /// [`register_error`](OtlpError::register_error)).
    ///
    /// ```
    /// use event_center::{EventCenter, OtlpExporter};
    ///
    /// let center = EventCenter::new();
    /// let guard = OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .register(&center, "otlp")
    ///     .unwrap();
    /// assert_eq!(center.hook_names(), ["otlp"]);
    /// drop(guard); // nothing was emitted, so nothing is sent
    /// assert!(center.hook_names().is_empty());
    /// ```
    pub fn register(self, center: &EventCenter, name: &str) -> Result<OtlpGuard, OtlpError> {
        let options = HookOptions::new().with_delivery(self.delivery.clone());
        let (patterns, flush_timeout) = (self.patterns.clone(), self.flush_timeout);
        let exporter = self.build()?;
        let registration =
            Registration::new(center, name, patterns, options, exporter, flush_timeout)
                .map_err(OtlpError::register)?;
        Ok(OtlpGuard { registration })
    }

    /// The exporter, with its batch threads started.
    fn build(self) -> Result<OtlpExporter, OtlpError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
