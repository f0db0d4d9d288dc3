//! The guard of a registered exporter: the exporter's only handle, which
//! flushes it and shuts it down.

use std::fmt;
use std::time::Duration;

use super::exporter::OtlpExporter;
use super::transport::OtlpStats;
use crate::center::FlushReport;
use crate::sinks::registration::Registration;

#[cfg(doc)]
use super::builder::OtlpExporterBuilder;

/// An [`OtlpExporter`] registered on a center, returned by
/// [`OtlpExporterBuilder::register`]: the exporter's only handle, like a
/// tracing appender's guard.
///
/// - [`flush`](OtlpGuard::flush) waits for the exporter's queue, sends the
///   records and ended spans handed over so far, and reports the center's
///   counts of the exporter's hook;
/// - [`stats`](OtlpGuard::stats) gives the exporter's failed exports and
///   the last failure;
/// - [`shutdown`](OtlpGuard::shutdown) waits for the queue, unregisters the
///   hook, ends the open runs' spans and sends everything;
/// - dropping the guard shuts down within the builder's
///   [flush timeout](OtlpExporterBuilder::with_flush_timeout) (5 s by
///   default).
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, OtlpExporter};
///
/// let center = EventCenter::new();
/// let guard = OtlpExporter::builder().register(&center, "otlp")?;
/// center.emitter("Agent").emit("agent.started").send();
/// guard.flush(Duration::from_secs(5));
/// if let Some(error) = guard.stats().last_error {
///     eprintln!("{error}");
/// }
/// // dropping `guard` at the end of main sends the rest
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard unregisters the exporter at once: keep it alive"]
pub struct OtlpGuard {
    pub(super) registration: Registration<OtlpExporter>,
}

impl fmt::Debug for OtlpGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpGuard")
            .field("name", &self.registration.name())
            .field("exporter", self.registration.sink())
            .finish_non_exhaustive()
    }
}

impl OtlpGuard {
    /// Waits until the exporter's queue is drained, then sends the log
    /// records and ended spans handed over so far (open runs stay open),
    /// all within `timeout`; returns the center's counts of the exporter's
    /// hook. An export that fails is counted in [`stats`](OtlpGuard::stats)
    /// at once and returned by the hook's next call.
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder().register(&center, "otlp")?;
    /// center.emitter("Agent").emit("agent.started").send();
    /// assert!(guard.flush(std::time::Duration::from_secs(5)).is_complete());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.registration.flush(timeout)
    }

    /// The exporter's numbers: failed exports, the items in them, and the
    /// last failure.
    ///
    /// ```
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .register(&center, "otlp")
    ///     .unwrap();
    /// assert_eq!(guard.stats().failed_exports, 0);
    /// ```
    pub fn stats(&self) -> OtlpStats {
        self.registration.sink().inner.failures.stats()
    }

    /// Waits until the exporter's queue is drained, unregisters the hook
    /// (what its queue still holds then is dropped and counted), ends the
    /// open runs' spans and sends everything, and stops the exporter's
    /// threads; returns the center's counts of the exporter's hook.
    ///
    /// ```no_run
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder().register(&center, "otlp")?;
    /// let report = guard.shutdown(std::time::Duration::from_secs(5));
    /// assert!(report.is_complete());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.registration.shutdown(timeout)
    }

    /// The collector's base URL (without `/v1/logs` or `/v1/traces`).
    ///
    /// ```
    /// # let center = event_center::EventCenter::new();
    /// let guard = event_center::OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318/")
    ///     .register(&center, "otlp")
    ///     .unwrap();
    /// assert_eq!(guard.endpoint(), "http://127.0.0.1:4318");
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.registration.sink().inner.endpoint
    }
}
