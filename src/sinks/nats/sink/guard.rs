//! The guard of a registered sink: the sink's only handle, which drains,
//! unregisters and shuts the sink down.

use std::fmt;
use std::time::Duration;

use super::hook::NatsSink;
use super::shared::NatsSinkStats;
use crate::center::FlushReport;
use crate::sinks::registration::Registration;

#[cfg(doc)]
use super::builder::NatsSinkBuilder;

/// A [`NatsSink`] registered on a center, returned by
/// [`NatsSinkBuilder::register`]: the sink's only handle.
///
/// - [`flush`](NatsGuard::flush) waits for the sink's queue and then for
///   the acks of what it published, and reports the center's counts of the
///   sink's hook;
/// - [`stats`](NatsGuard::stats) gives the sink's own numbers (published,
///   duplicates, lost, pending acks, retries, the last failure);
/// - [`shutdown`](NatsGuard::shutdown) does what `flush` does, then
///   unregisters the sink and stops its thread;
/// - dropping the guard shuts down within the builder's
///   [flush timeout](NatsSinkBuilder::with_flush_timeout) (5 s by default).
///
/// Hold it for as long as events should be published (`let _guard = ...`,
/// not `let _ = ...`, which drops it at once).
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let guard = NatsSink::builder("nats://127.0.0.1:4222").register(&center, "nats")?;
/// center.emitter("Agent").emit("model.requested").send();
/// guard.flush(Duration::from_secs(5));
/// let stats = guard.stats();
/// assert_eq!((stats.published, stats.lost), (1, 0));
/// let report = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((report.delivered, report.failed), (1, 0));
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard shuts the sink down at once: keep it alive"]
pub struct NatsGuard {
    pub(super) registration: Registration<NatsSink>,
}

impl fmt::Debug for NatsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsGuard")
            .field("name", &self.registration.name())
            .field("sink", self.registration.sink())
            .finish_non_exhaustive()
    }
}

impl NatsGuard {
    /// Waits until the sink's queue is drained (so every event emitted
    /// before the call reaches the sink) and then for the acks, all within
    /// `timeout`; returns the center's counts of the sink's hook. What the
    /// sink still awaits an ack for is in [`stats`](NatsGuard::stats)
    /// (`pending`), and is still retried.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let center = EventCenter::new();
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").register(&center, "nats")?;
    /// center.emitter("A").emit("a.b").send();
    /// assert!(guard.flush(std::time::Duration::from_secs(5)).is_complete());
    /// assert_eq!(guard.stats().published, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.registration.flush(timeout)
    }

    /// The sink's numbers: accepted, published, duplicates, lost, pending,
    /// retries and the last failure.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.stats().lost, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> NatsSinkStats {
        self.registration.sink().shared.lock().stats()
    }

    /// Waits until the sink's queue is drained, unregisters the sink (what
    /// its queue still holds then is dropped and counted), waits for the
    /// last acks and stops the sink's thread, all within `timeout`; what is
    /// still unacknowledged then counts as lost in the sink's stats. Returns
    /// the center's counts of the sink's hook.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.shutdown(std::time::Duration::from_secs(1)).accepted, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.registration.shutdown(timeout)
    }

    /// The subject an event of this type is published to: the prefix, then
    /// one token per dot-separated part of the type. Parts NATS can carry
    /// are kept as they are; a byte it cannot (whitespace, `*`, `>`,
    /// non-ASCII) and `%` become `%XX`, and an empty part becomes `%`, so
    /// every type has a valid subject of its own and the type can be read
    /// back from it.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.subject("model.completed"), "events.model.completed");
    /// assert_eq!(guard.subject("my tool.*"), "events.my%20tool.%2A");
    /// assert_eq!(guard.subject("a..b"), "events.a.%.b");
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn subject(&self, event_type: &str) -> String {
        self.registration.sink().subject(event_type)
    }
}
