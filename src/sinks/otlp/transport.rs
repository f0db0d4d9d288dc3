//! The transport: the blocking HTTP client the SDK's exporters send
//! through, and the notes of their failures until the hook reports them.

use std::fmt;
use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::lock;

/// The largest response body read from a collector.
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Export failures noted by the exporters' threads, until the hook (or a
/// flush) reports them.
#[derive(Debug, Default)]
pub(super) struct Failures {
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
    /// Every failure so far, reported or not.
    total: OtlpStats,
}

/// An OTLP exporter's numbers: its failed exports; see
/// [`OtlpGuard::stats`](crate::OtlpGuard::stats).
///
/// The center counts a failure once the hook has returned it (see the
/// guard's [`FlushReport`](crate::FlushReport)); these count every failed
/// request, whether it was reported yet or not.
///
/// ```
/// let stats = event_center::OtlpStats::default();
/// assert_eq!((stats.failed_exports, stats.failed_items, stats.last_error), (0, 0, None));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpStats {
    /// Export requests (a batch of log records or spans) that failed after
    /// their retries, and flushes the SDK reported as failed.
    pub failed_exports: u64,
    /// Log records and spans in those failed requests: they did not reach
    /// the collector.
    pub failed_items: u64,
    /// The last failure: what was sent, to which URL, and why it failed.
    pub last_error: Option<String>,
}

impl Failures {
    fn record(&self, what: &str, url: &str, items: usize, error: &dyn fmt::Display) {
        let mut state = lock(&self.state);
        let cause = match state.transport.take() {
            Some(transport) => format!("{error} ({transport})"),
            None => error.to_string(),
        };
        let message = format!("exporting {items} {what} to {url} failed: {cause}");
        state.batches += 1;
        state.items += items as u64;
        state.total.failed_exports += 1;
        state.total.failed_items += items as u64;
        state.total.last_error = Some(message.clone());
        state.last = Some(message);
    }

    /// Notes a failure the SDK reported for a flush or shutdown as a whole,
    /// unless the exporters noted one meanwhile (which says more).
    pub(super) fn note(&self, message: String) {
        let mut state = lock(&self.state);
        if state.last.is_some() {
            return;
        }
        state.batches += 1;
        state.total.failed_exports += 1;
        state.total.last_error = Some(message.clone());
        state.last = Some(message);
    }

    pub(super) fn stats(&self) -> OtlpStats {
        lock(&self.state).total.clone()
    }

    fn transport(&self, error: String) {
        lock(&self.state).transport = Some(error);
    }

    pub(super) fn take(&self) -> Option<String> {
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
pub(super) struct Counted<E> {
    pub(super) inner: E,
    pub(super) what: &'static str,
    pub(super) url: String,
    pub(super) failures: Arc<Failures>,
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
pub(super) struct UreqClient {
    pub(super) agent: ureq::Agent,
    pub(super) failures: Arc<Failures>,
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
