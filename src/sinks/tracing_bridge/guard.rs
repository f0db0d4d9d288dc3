//! The guard of a registered [`TracingHook`]: its only handle.

use std::fmt;
use std::time::Duration;

use super::hook::TracingHook;
use crate::center::{FlushReport, HookStats};
use crate::sinks::registration::Registration;

#[cfg(doc)]
use super::hook::TracingHookBuilder;

/// A [`TracingHook`] registered on a center, returned by
/// [`TracingHookBuilder::register`]: the hook's only handle.
///
/// - [`flush`](TracingGuard::flush) waits until the hook's queue is drained
///   (every event emitted before the call has reached `tracing`) and
///   reports the center's counts of the hook;
/// - [`stats`](TracingGuard::stats) gives those counts as the hook's
///   [`HookStats`] (the hook keeps no counters of its own);
/// - [`shutdown`](TracingGuard::shutdown) does what `flush` does, then
///   unregisters the hook;
/// - dropping the guard shuts down within the builder's
///   [flush timeout](TracingHookBuilder::with_flush_timeout) (5 s by
///   default).
///
/// ```
/// use std::time::Duration;
/// use event_center::{EventCenter, TracingHook};
///
/// let center = EventCenter::new();
/// let guard = TracingHook::builder().with_patterns("model.*").register(&center, "tracing")?;
/// center.emitter("Agent").emit("model.completed").send();
/// let report = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((report.accepted, report.delivered), (1, 1));
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), event_center::RegisterError>(())
/// ```
#[must_use = "dropping the guard unregisters the hook at once: keep it alive"]
pub struct TracingGuard {
    pub(super) registration: Registration<TracingHook>,
}

impl fmt::Debug for TracingGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingGuard")
            .field("name", &self.registration.name())
            .field("hook", self.registration.sink())
            .finish_non_exhaustive()
    }
}

impl TracingGuard {
    /// Waits until the hook's queue is drained, within `timeout`, and
    /// returns the center's counts of the hook: `pending > 0` means the
    /// timeout came first.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{EventCenter, TracingHook};
    /// let center = EventCenter::new();
    /// let guard = TracingHook::builder().register(&center, "tracing").unwrap();
    /// center.emitter("Agent").emit("tool.called").send();
    /// assert!(guard.flush(Duration::from_secs(5)).is_complete());
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.registration.flush(timeout)
    }

    /// The center's counters of the hook: accepted, delivered, failed,
    /// dropped by reason, pending.
    ///
    /// ```
    /// # use event_center::{EventCenter, TracingHook};
    /// let center = EventCenter::new();
    /// let guard = TracingHook::builder().register(&center, "tracing").unwrap();
    /// let stats = guard.stats();
    /// assert_eq!((stats.name.as_str(), stats.accepted), ("tracing", 0));
    /// ```
    pub fn stats(&self) -> HookStats {
        self.registration.hook_stats()
    }

    /// Waits until the hook's queue is drained and unregisters the hook
    /// (what its queue still holds then is dropped and counted), all within
    /// `timeout`; returns the center's counts of the hook.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{EventCenter, TracingHook};
    /// let center = EventCenter::new();
    /// let guard = TracingHook::builder().register(&center, "tracing").unwrap();
    /// assert!(guard.shutdown(Duration::from_secs(5)).is_complete());
    /// assert!(center.hook_names().is_empty());
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.registration.shutdown(timeout)
    }
}
