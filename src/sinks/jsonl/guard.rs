//! The guard of a registered JSONL sink: the sink's only handle.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::{JsonlSink, JsonlStats};
use crate::center::FlushReport;
use crate::sinks::registration::Registration;

#[cfg(doc)]
use super::builder::JsonlSinkBuilder;
#[cfg(doc)]
use super::FsyncPolicy;

/// A [`JsonlSink`] registered on a center, returned by
/// [`JsonlSinkBuilder::register`]: the sink's only handle, like
/// `tracing-appender`'s `WorkerGuard`.
///
/// - [`flush`](JsonlGuard::flush) waits for the sink's queue, writes what
///   the sink buffered and fsyncs it (unless the policy is
///   [`FsyncPolicy::Never`]), and reports the center's counts of the
///   sink's hook;
/// - [`stats`](JsonlGuard::stats) gives the sink's own counters (lines
///   written, events lost, bytes, rotations, fsyncs);
/// - [`shutdown`](JsonlGuard::shutdown) does what `flush` does, then
///   unregisters the sink and closes the file;
/// - dropping the guard shuts down within the builder's
///   [flush timeout](JsonlSinkBuilder::with_flush_timeout) (5 s by
///   default).
///
/// Hold it for as long as events should be written (`let _guard = ...`,
/// not `let _ = ...`, which drops it at once).
///
/// A write that fails while the sink runs is returned by the sink's hook
/// (at once, or from the hook's next call when it happened outside one),
/// so the report counts it as `failed` and the center reports it as an
/// `event_center.hook_failed` event carrying the [`JsonlError`]'s message;
/// [`JsonlStats::lost`] says how many events it kept from the file.
///
/// [`JsonlError`]: crate::JsonlError
///
/// ```
/// use std::time::Duration;
/// use event_center::{EventCenter, JsonlSink};
///
/// let path = std::env::temp_dir().join(format!("jsonl-guard-{}.jsonl", std::process::id()));
/// let center = EventCenter::new();
/// let guard = JsonlSink::builder(&path).register(&center, "jsonl")?;
/// for _ in 0..10 {
///     center.emitter("Agent").emit("model.delta").send();
/// }
/// let report = guard.flush(Duration::from_secs(5));
/// assert_eq!((report.delivered, report.failed, report.pending), (10, 0, 0));
/// assert_eq!(guard.stats().written, 10);
/// assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 10);
///
/// let report = guard.shutdown(Duration::from_secs(5));
/// assert!(report.is_complete());
/// assert!(center.hook_names().is_empty());
/// # std::fs::remove_file(path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard flushes and unregisters the sink at once: keep it alive"]
pub struct JsonlGuard {
    pub(super) registration: Registration<JsonlSink>,
}

impl fmt::Debug for JsonlGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlGuard")
            .field("name", &self.registration.name())
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

impl JsonlGuard {
    /// Waits until the sink's queue is drained, then writes what the sink
    /// buffered and fsyncs it (unless the policy is [`FsyncPolicy::Never`]),
    /// all within `timeout`, and returns the center's counts of the sink's
    /// hook: `pending > 0` means the timeout came first. A write that fails
    /// here is counted in [`stats`](JsonlGuard::stats) at once and returned
    /// by the hook's next call.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gflush-{}.jsonl", std::process::id()));
    /// let center = EventCenter::new();
    /// let guard = JsonlSink::builder(&path).register(&center, "jsonl").unwrap();
    /// center.emitter("Agent").emit("model.delta").send();
    /// assert!(guard.flush(Duration::from_secs(5)).is_complete());
    /// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.registration.flush(timeout)
    }

    /// The sink's counters: events written, lost and buffered; bytes,
    /// errors (and the last one), rotations and fsyncs.
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gstats-{}.jsonl", std::process::id()));
    /// let guard = JsonlSink::builder(&path).register(&EventCenter::new(), "j").unwrap();
    /// let stats = guard.stats();
    /// assert_eq!((stats.written, stats.lost, stats.last_error), (0, 0, None));
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn stats(&self) -> JsonlStats {
        self.registration.sink().shared.lock().stats()
    }

    /// Waits until the sink's queue is drained, unregisters the sink (what
    /// its queue still holds then is dropped and counted), writes what it
    /// buffered, fsyncs and closes the file, all within `timeout`; returns
    /// the center's counts of the sink's hook. Dropping the guard does the
    /// same with the builder's flush timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gshut-{}.jsonl", std::process::id()));
    /// let center = EventCenter::new();
    /// let guard = JsonlSink::builder(&path).register(&center, "jsonl").unwrap();
    /// center.emitter("Agent").emit("model.delta").send();
    /// let report = guard.shutdown(Duration::from_secs(5));
    /// assert_eq!((report.accepted, report.delivered), (1, 1));
    /// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.registration.shutdown(timeout)
    }

    /// The path of the file being written.
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gpath-{}.jsonl", std::process::id()));
    /// let guard = JsonlSink::builder(&path).register(&EventCenter::new(), "j").unwrap();
    /// assert_eq!(guard.path(), path);
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.registration.sink().shared.path
    }
}
