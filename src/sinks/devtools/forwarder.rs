//! The forwarder: the hook that fills the buffer, its own flush and
//! shutdown, and the request body.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::buffer::Shared;
use super::builder::{DevtoolsBackoff, DevtoolsForwarderBuilder};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::sinks::registration::{SinkEnd, DEFAULT_FLUSH_TIMEOUT};

#[cfg(doc)]
use super::guard::DevtoolsGuard;
#[cfg(doc)]
use super::stats::DevtoolsStats;

/// Shuts the sender down when the last handle goes.
pub(super) struct Inner {
    pub(super) shared: Arc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.shutdown(self.shared.config.flush_timeout);
    }
}

/// Forwards events to an Agently DevTools server: a [`Hook`] that puts each
/// event into a bounded buffer, and a sender thread that posts them in
/// batches to `POST /observation/ingest` as
/// `{"app_id", "group_id", "environment", "events": [...]}` (with
/// `Authorization: Bearer <key>` when a key is set).
///
/// While the server fails (no answer, `401`/`403` for a wrong key, `404`
/// for a wrong URL, `429`, `5xx`), the sender retries the batch with a
/// capped exponential [`DevtoolsBackoff`], keeping its events, and
/// [`DevtoolsStats::last_error`] says why; when the buffer is full,
/// high-frequency and coalesced events make room first, then the oldest. A
/// batch the server refuses (`400`, `413`, `422`) is split until only the
/// event it refuses is left out. Every event ends as sent or dropped
/// (counted by reason in [`DevtoolsGuard::stats`]); drops are also
/// reported, at most once a second and at each flush, as
/// `event_center.events_dropped` events (source `DevtoolsForwarder`,
/// payload `{hook, dropped, total: {by reason}}`) through the center the
/// forwarder is registered with, so they reach the DevTools server too.
///
/// [`DevtoolsForwarder::builder`] sets it up and
/// [`register`](DevtoolsForwarderBuilder::register) registers it (for every
/// event with [`Delivery::Background`](crate::Delivery::Background) unless
/// the builder says otherwise, so the emitter only queues) and returns the
/// [`DevtoolsGuard`], the forwarder's only handle, which flushes and shuts
/// the forwarder down when dropped.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{DevtoolsForwarder, EventCenter, RunContext};
///
/// let center = EventCenter::new();
/// let devtools = DevtoolsForwarder::builder("http://127.0.0.1:15596")
///     .with_app_id("travel-agent")
///     .with_environment("dev")
///     .register(&center, "devtools")?;
///
/// let run = RunContext::new("agent_execution");
/// let emitter = center.emitter("Planner").with_run(run.clone());
/// emitter.emit("agent_execution.started").send();
/// emitter.emit("model.requesting").run(run.child("model_request")).send();
///
/// devtools.flush(Duration::from_secs(5));
/// assert_eq!(devtools.stats().pending, 0);
/// devtools.shutdown(Duration::from_secs(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DevtoolsForwarder {
    pub(super) inner: Arc<Inner>,
}

impl fmt::Debug for DevtoolsForwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.shared.config;
        f.debug_struct("DevtoolsForwarder")
            .field("endpoint", &config.endpoint)
            .field(
                "api_key",
                &config.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("max_batch", &config.max_batch)
            .field("max_delay", &config.max_delay)
            .field("capacity", &config.capacity)
            .field("backoff", &config.backoff)
            .finish()
    }
}

impl DevtoolsForwarder {
    /// A builder for a forwarder to the DevTools server at `url` (its base
    /// URL, `http://127.0.0.1:15596` for a local `agently-devtools start`,
    /// or its ingest URL).
    ///
    /// ```
    /// let builder = event_center::DevtoolsForwarder::builder("http://127.0.0.1:15596")
    ///     .with_app_id("my-app");
    /// assert!(format!("{builder:?}").contains("my-app"));
    /// ```
    pub fn builder(url: impl Into<String>) -> DevtoolsForwarderBuilder {
        DevtoolsForwarderBuilder {
            url: url.into(),
            app_id: None,
            group_id: None,
            environment: None,
            api_key: None,
            max_batch: 256,
            max_delay: Duration::from_millis(200),
            capacity: 65_536,
            backoff: DevtoolsBackoff::default(),
            timeout: Duration::from_secs(10),
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            patterns: Patterns::All,
            delivery: None,
        }
    }

    /// The exact request body a batch of `events` is sent as; see
    /// [`DevtoolsGuard::ingest_body`].
    pub(super) fn ingest_body(&self, events: &[Arc<Event>]) -> Vec<u8> {
        let mut body = self.inner.shared.config.body_prefix.clone();
        self.write_events(&mut body, events);
        body
    }

    /// Appends `events` and the closing brackets to a body prefix.
    fn write_events(&self, body: &mut Vec<u8>, events: &[Arc<Event>]) {
        let mut first = true;
        for event in events {
            let mark = body.len();
            if !first {
                body.push(b',');
            }
            if serde_json::to_writer(&mut *body, &**event).is_err() {
                body.truncate(mark);
                continue;
            }
            first = false;
        }
        body.extend_from_slice(b"]}");
    }
}

impl SinkEnd for DevtoolsForwarder {
    /// Sends what is buffered now, without waiting for the batch delay, and
    /// waits until it is sent (or dropped) or `deadline`; what is left stays
    /// buffered and is retried.
    fn flush_own(&self, deadline: Instant) {
        self.inner
            .shared
            .flush(deadline.saturating_duration_since(Instant::now()));
    }

    /// Sends what is buffered, waiting for a server that is down at most
    /// until `deadline`, then stops the sender thread; what was left is
    /// counted as dropped (`shutdown`), and so is any event offered
    /// afterwards (the hook then fails, so the center reports it).
    fn close(&self, deadline: Instant) {
        self.inner
            .shared
            .shutdown(deadline.saturating_duration_since(Instant::now()));
    }
}

impl Hook for DevtoolsForwarder {
    /// Moves the event into the buffer (making room by the overflow rule);
    /// fails only after the guard's [`shutdown`](DevtoolsGuard::shutdown).
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        self.inner.shared.push(event)
    }
}
