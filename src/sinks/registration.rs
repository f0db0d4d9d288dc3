//! What every sink's guard does, written once: it holds the sink's hook
//! registration, flushes that one hook's queue and then the sink's own
//! buffers, reports that hook's counts, and on shutdown (or drop)
//! unregisters the hook and closes the sink. Each guard adds its sink's own
//! counters and accessors.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "tracing")]
use crate::center::sink_hooks::entry_stats;
use crate::center::sink_hooks::hook_report;
#[cfg(feature = "tracing")]
use crate::center::HookStats;
use crate::center::{EventCenter, FlushReport, RegisterError};
use crate::delivery::HookOptions;
use crate::hook::Hook;
use crate::hook_entry::HookEntry;
use crate::pattern::Patterns;

/// How long dropping a sink's guard waits for the hook's queue and the
/// sink's own buffers, unless its builder's `with_flush_timeout` says
/// otherwise.
pub(crate) const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A sink's own end: what it holds beyond the center's queue (lines not yet
/// written, publishes not yet acknowledged, a batch not yet sent).
pub(crate) trait SinkEnd: Hook {
    /// Writes or sends what the sink holds, waiting at most until
    /// `deadline`. A failure is counted in the sink's stats and returned by
    /// the hook's next call, so the center counts it as failed.
    fn flush_own(&self, deadline: Instant);

    /// Stops the sink after a last flush within `deadline`, releasing its
    /// thread, file or connection; an event offered afterwards fails.
    fn close(&self, deadline: Instant);
}

/// A sink registered on a center: the guard's half that is the same for
/// every sink.
pub(crate) struct Registration<S: SinkEnd> {
    center: EventCenter,
    entry: Arc<HookEntry>,
    sink: Arc<S>,
    flush_timeout: Duration,
    closed: bool,
}

impl<S: SinkEnd> Registration<S> {
    /// Registers `sink` on `center` under `name`.
    pub(crate) fn new(
        center: &EventCenter,
        name: &str,
        patterns: Patterns,
        options: HookOptions,
        sink: S,
        flush_timeout: Duration,
    ) -> Result<Self, RegisterError> {
        let sink = Arc::new(sink);
        let hook: Arc<dyn Hook> = sink.clone();
        let entry = center.register_entry(name, patterns, options, hook)?;
        Ok(Registration {
            center: center.clone(),
            entry,
            sink,
            flush_timeout,
            closed: false,
        })
    }

    /// The registered sink.
    pub(crate) fn sink(&self) -> &S {
        &self.sink
    }

    /// The hook's name.
    pub(crate) fn name(&self) -> &str {
        &self.entry.shared.name
    }

    /// The center's counters of this hook.
    #[cfg(feature = "tracing")]
    pub(crate) fn hook_stats(&self) -> HookStats {
        entry_stats(&self.entry)
    }

    /// Waits for this hook's queue, then flushes the sink's own buffers,
    /// all within `timeout`, and reports this hook's counts.
    pub(crate) fn flush(&self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = deadline_after(started, timeout);
        if !self.closed {
            self.center.wait_hook(&self.entry, deadline);
            self.sink.flush_own(deadline);
        }
        hook_report(&self.entry, started.elapsed())
    }

    /// Waits for this hook's queue, unregisters the hook (what its queue
    /// still holds then is dropped and counted as `unregistered`) and
    /// closes the sink, all within `timeout`, and reports this hook's
    /// counts. Only the first call does anything; later ones report.
    pub(crate) fn shutdown(&mut self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = deadline_after(started, timeout);
        if !std::mem::replace(&mut self.closed, true) {
            self.center.wait_hook(&self.entry, deadline);
            self.center.unregister_entry(&self.entry);
            self.center.wait_retired(&self.entry, deadline);
            self.sink.close(deadline);
        }
        hook_report(&self.entry, started.elapsed())
    }
}

impl<S: SinkEnd> Drop for Registration<S> {
    fn drop(&mut self) {
        self.shutdown(self.flush_timeout);
    }
}

impl<S: SinkEnd> fmt::Debug for Registration<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name())
            .field("flush_timeout", &self.flush_timeout)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// `started + timeout`, or a day later for a timeout too long to add.
pub(crate) fn deadline_after(started: Instant, timeout: Duration) -> Instant {
    started
        .checked_add(timeout)
        .unwrap_or_else(|| started + Duration::from_secs(86_400))
}
