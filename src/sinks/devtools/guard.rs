//! The guard of a registered forwarder: it drains, unregisters and shuts
//! the forwarder down.

use std::fmt;
use std::time::{Duration, Instant};

use super::forwarder::DevtoolsForwarder;
use super::stats::DevtoolsStats;
use crate::center::EventCenter;

/// A [`DevtoolsForwarder`] registered on a center (see
/// [`DevtoolsForwarder::register`]). Dropping it drains the center's queue
/// into the forwarder, unregisters it and shuts it down within the
/// forwarder's close timeout; [`shutdown`](Self::shutdown) does the same
/// with a timeout of your choice and returns the numbers.
///
/// ```
/// use std::time::Duration;
/// use event_center::{DevtoolsForwarder, EventCenter};
///
/// let center = EventCenter::new();
/// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9")
///     .build()
///     .unwrap()
///     .register(&center, "devtools")
///     .unwrap();
/// center.emitter("Agent").emit("model.requesting").send();
/// let stats = guard.shutdown(Duration::from_millis(100)); // nothing listens there
/// assert_eq!((stats.accepted, stats.dropped.shutdown), (1, 1));
/// assert!(center.hook_names().is_empty());
/// ```
pub struct DevtoolsGuard {
    pub(super) center: EventCenter,
    pub(super) name: String,
    pub(super) forwarder: Option<DevtoolsForwarder>,
}

impl fmt::Debug for DevtoolsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevtoolsGuard")
            .field("name", &self.name)
            .field("forwarder", &self.forwarder)
            .finish()
    }
}

impl DevtoolsGuard {
    /// The registered forwarder.
    ///
    /// ```
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// assert_eq!(guard.forwarder().stats().accepted, 0);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// ```
    pub fn forwarder(&self) -> &DevtoolsForwarder {
        self.forwarder
            .as_ref()
            .expect("the forwarder is only taken by shutdown or drop")
    }

    /// The forwarder's numbers (see [`DevtoolsForwarder::stats`]).
    ///
    /// ```
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// assert_eq!(guard.stats().sent, 0);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// ```
    pub fn stats(&self) -> DevtoolsStats {
        self.forwarder().stats()
    }

    /// Drains the center's queues (so every event emitted before the call
    /// reaches the forwarder), then flushes the forwarder, all within
    /// `timeout`. `pending` counts what was left, in the center's queue or
    /// the forwarder's buffer.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// center.emitter("A").emit("a.b").send();
    /// assert_eq!(guard.flush(Duration::from_millis(50)).pending, 1);
    /// # guard.shutdown(Duration::ZERO);
    /// ```
    pub fn flush(&self, timeout: Duration) -> DevtoolsStats {
        let deadline = Instant::now() + timeout;
        let report = self.center.flush(timeout);
        let queued = report
            .hooks
            .iter()
            .find(|h| h.name == self.name && h.registered)
            .map_or(0, |h| h.pending);
        let mut stats = self
            .forwarder()
            .flush(deadline.saturating_duration_since(Instant::now()));
        stats.pending += queued;
        stats
    }

    /// Drains the center's queue into the forwarder, unregisters it, and
    /// shuts it down (see [`DevtoolsForwarder::shutdown`]), all within
    /// `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// let stats = guard.shutdown(Duration::from_millis(50));
    /// assert_eq!(stats.accepted, 0);
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> DevtoolsStats {
        self.close(timeout)
    }

    fn close(&mut self, timeout: Duration) -> DevtoolsStats {
        let Some(forwarder) = self.forwarder.take() else {
            return DevtoolsStats::default();
        };
        let deadline = Instant::now() + timeout;
        self.center.flush(timeout);
        self.center.unregister_hook(&self.name);
        forwarder.shutdown(deadline.saturating_duration_since(Instant::now()))
    }
}

impl Drop for DevtoolsGuard {
    fn drop(&mut self) {
        if let Some(forwarder) = &self.forwarder {
            let timeout = forwarder.inner.shared.config.close_timeout;
            self.close(timeout);
        }
    }
}
