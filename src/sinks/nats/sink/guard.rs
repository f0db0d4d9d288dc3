//! The guard of a registered sink: it drains, unregisters and shuts the
//! sink down.

use std::fmt;
use std::time::{Duration, Instant};

use super::hook::NatsSink;
use super::shared::NatsSinkStats;
use crate::center::EventCenter;
use crate::text::SharedStr;

#[cfg(doc)]
use super::builder::NatsSinkBuilder;

/// Returned by [`NatsSink::register`]: dropping it waits (up to the
/// builder's [close timeout](NatsSinkBuilder::with_close_timeout)) for the
/// center's queues and the last acks, unregisters the sink and stops its
/// thread. Hold it for as long as events should be published (`let _guard
/// = ...`, not `let _ = ...`, which drops it at once).
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
/// center.emitter("Agent").emit("model.requested").send();
/// let stats = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((stats.published, stats.lost), (1, 0));
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard shuts the sink down at once: keep it alive"]
pub struct NatsGuard {
    pub(super) center: EventCenter,
    pub(super) name: SharedStr,
    pub(super) sink: NatsSink,
    pub(super) closed: bool,
}

impl fmt::Debug for NatsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsGuard")
            .field("name", &self.name)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl NatsGuard {
    /// The registered sink.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.sink().subject("a.b"), "events.a.b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sink(&self) -> &NatsSink {
        &self.sink
    }

    /// The sink's numbers (see [`NatsSink::stats`]).
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.stats().lost, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> NatsSinkStats {
        self.sink.stats()
    }

    /// Drains the center's queues (so every event emitted before the call
    /// reaches the sink), then waits for the acks, all within `timeout`.
    /// `pending` counts what was left, in the center's queue or unacked.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let center = EventCenter::new();
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
    /// center.emitter("A").emit("a.b").send();
    /// assert_eq!(guard.flush(std::time::Duration::from_secs(5)).published, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> NatsSinkStats {
        let deadline = Instant::now() + timeout;
        let report = self.center.flush(timeout);
        let queued: u64 = report
            .hooks
            .iter()
            .filter(|h| h.name == *self.name && h.registered)
            .map(|h| h.pending)
            .sum();
        let mut stats = self.sink.shared.wait_settled(deadline);
        stats.pending += queued;
        stats
    }

    /// Drains the center's queue into the sink, unregisters it and shuts it
    /// down (see [`NatsSink::shutdown`]), all within `timeout`.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.shutdown(std::time::Duration::from_secs(1)).accepted, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> NatsSinkStats {
        self.close(timeout)
    }

    fn close(&mut self, timeout: Duration) -> NatsSinkStats {
        self.closed = true;
        let deadline = Instant::now() + timeout;
        self.center.flush(timeout);
        self.center.unregister_hook(&self.name);
        self.sink
            .shutdown(deadline.saturating_duration_since(Instant::now()))
    }
}

impl Drop for NatsGuard {
    fn drop(&mut self) {
        if !self.closed {
            self.close(self.sink.close_timeout);
        }
    }
}
