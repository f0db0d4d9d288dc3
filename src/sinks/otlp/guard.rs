//! The guard that keeps an exporter registered, and flushes and shuts it
//! down.

use std::fmt;
use std::time::Duration;

use super::error::{OtlpError, OtlpErrorKind};
use super::exporter::OtlpExporter;
use crate::center::EventCenter;

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
    pub(super) center: EventCenter,
    pub(super) name: String,
    pub(super) exporter: OtlpExporter,
    pub(super) timeout: Duration,
    pub(super) done: bool,
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
