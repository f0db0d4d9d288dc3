//! The guard of a registered forwarder: the forwarder's only handle, which
//! drains, unregisters and shuts the forwarder down.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::forwarder::DevtoolsForwarder;
use super::stats::DevtoolsStats;
use crate::center::FlushReport;
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::sinks::registration::Registration;

#[cfg(doc)]
use super::builder::DevtoolsForwarderBuilder;

/// A [`DevtoolsForwarder`] registered on a center, returned by
/// [`DevtoolsForwarderBuilder::register`]: the forwarder's only handle.
///
/// - [`flush`](DevtoolsGuard::flush) waits for the forwarder's queue, sends
///   what is buffered without waiting for the batch delay, and reports the
///   center's counts of the forwarder's hook;
/// - [`stats`](DevtoolsGuard::stats) gives the forwarder's own numbers
///   (sent, dropped by reason, pending, requests, retries, the last error);
/// - [`shutdown`](DevtoolsGuard::shutdown) does what `flush` does, then
///   unregisters the forwarder and stops its sender thread;
/// - dropping the guard shuts down within the builder's
///   [flush timeout](DevtoolsForwarderBuilder::with_flush_timeout) (5 s by
///   default).
///
/// ```
/// use std::time::Duration;
/// use event_center::{DevtoolsForwarder, EventCenter};
///
/// let center = EventCenter::new();
/// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9") // nothing listens there
///     .register(&center, "devtools")?;
/// center.emitter("Agent").emit("model.requesting").send();
/// let report = guard.flush(Duration::from_millis(100));
/// assert_eq!((report.accepted, report.delivered), (1, 1)); // in the forwarder's buffer
/// assert_eq!((guard.stats().sent, guard.stats().pending), (0, 1)); // kept, retried
/// guard.shutdown(Duration::ZERO);
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), event_center::DevtoolsError>(())
/// ```
#[must_use = "dropping the guard shuts the forwarder down at once: keep it alive"]
pub struct DevtoolsGuard {
    pub(super) registration: Registration<DevtoolsForwarder>,
}

impl fmt::Debug for DevtoolsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevtoolsGuard")
            .field("name", &self.registration.name())
            .field("forwarder", self.registration.sink())
            .finish_non_exhaustive()
    }
}

impl DevtoolsGuard {
    /// Waits until the forwarder's queue is drained (so every event emitted
    /// before the call reaches the forwarder), then sends what is buffered
    /// and waits until it is sent or dropped, all within `timeout`; returns
    /// the center's counts of the forwarder's hook. What the forwarder
    /// still holds (a server that is down) is in
    /// [`stats`](DevtoolsGuard::stats) (`pending`), kept and retried.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").register(&center, "dt").unwrap();
    /// center.emitter("A").emit("a.b").send();
    /// assert!(guard.flush(Duration::from_millis(50)).is_complete());
    /// assert_eq!(guard.stats().pending, 1);
    /// # guard.shutdown(Duration::ZERO);
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.registration.flush(timeout)
    }

    /// The forwarder's numbers: accepted, sent, dropped by reason, pending,
    /// requests, retries, the most buffered at once and the last error.
    ///
    /// ```
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").register(&center, "dt").unwrap();
    /// assert_eq!(guard.stats().sent, 0);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// ```
    pub fn stats(&self) -> DevtoolsStats {
        self.registration.sink().inner.shared.stats()
    }

    /// Waits until the forwarder's queue is drained, unregisters it (what
    /// its queue still holds then is dropped and counted), sends what is
    /// buffered, waiting for a server that is down, and stops the sender
    /// thread, all within `timeout`; what is still unsent then is dropped
    /// and counted (`shutdown`) in the forwarder's stats. Returns the
    /// center's counts of the forwarder's hook.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").register(&center, "dt").unwrap();
    /// let report = guard.shutdown(Duration::from_millis(50));
    /// assert_eq!(report.accepted, 0);
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.registration.shutdown(timeout)
    }

    /// The exact request body a batch of `events` is sent as:
    /// `{"app_id":..,"group_id":..,"environment":..,"events":[..]}`.
    ///
    /// ```
    /// use event_center::{DevtoolsForwarder, Event, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://h").with_app_id("a").register(&center, "dt").unwrap();
    /// let body: serde_json::Value =
    ///     serde_json::from_slice(&guard.ingest_body(&[Event::new("model.completed").into()])).unwrap();
    /// assert_eq!(body["app_id"], "a");
    /// assert_eq!(body["group_id"], serde_json::Value::Null);
    /// assert_eq!(body["events"][0]["event_type"], "model.completed");
    /// ```
    pub fn ingest_body(&self, events: &[Arc<Event>]) -> Vec<u8> {
        self.registration.sink().ingest_body(events)
    }

    /// Hands one event to the forwarder's hook directly, as the center's
    /// worker does: for the benchmark of the hook's own enqueue, not part
    /// of the API.
    #[doc(hidden)]
    pub fn on_event_for_bench(&self, event: &Arc<Event>) -> HookResult {
        self.registration.sink().on_event(event)
    }
}
