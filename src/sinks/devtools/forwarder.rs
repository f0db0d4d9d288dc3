//! The forwarder: the hook, its registration on a center, and its flush
//! and shutdown.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::buffer::Shared;
use super::builder::{DevtoolsBackoff, DevtoolsForwarderBuilder};
use super::guard::DevtoolsGuard;
use super::stats::DevtoolsStats;
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;

/// Shuts the sender down when the last handle goes.
pub(super) struct Inner {
    pub(super) shared: Arc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.shutdown(self.shared.config.close_timeout);
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
/// (counted by reason in [`stats`](Self::stats)); drops are also reported,
/// at most once a second and at each flush, as `event_center.events_dropped`
/// events (source `DevtoolsForwarder`, payload `{hook, dropped, total: {by
/// reason}}`) through the center the forwarder was
/// [registered](Self::register) with, so they reach the DevTools server
/// too.
///
/// [`register`](Self::register) is the documented way: it registers the
/// forwarder for every event with [`Delivery::Background`], so the
/// emitter only queues, and returns a guard that flushes and shuts the
/// forwarder down when dropped.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{DevtoolsForwarder, EventCenter, RunContext};
///
/// let center = EventCenter::new();
/// let devtools = DevtoolsForwarder::builder("http://127.0.0.1:15596")
///     .with_app_id("travel-agent")
///     .with_environment("dev")
///     .build()?
///     .register(&center, "devtools")?;
///
/// let run = RunContext::new("agent_execution");
/// let emitter = center.emitter("Planner").with_run(run.clone());
/// emitter.emit("agent_execution.started").send();
/// emitter.emit("model.requesting").run(run.child("model_request")).send();
///
/// let stats = devtools.shutdown(Duration::from_secs(5));
/// assert_eq!(stats.pending, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
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
    /// let forwarder = event_center::DevtoolsForwarder::builder("http://127.0.0.1:15596")
    ///     .with_app_id("my-app")
    ///     .build()
    ///     .unwrap();
    /// assert!(format!("{forwarder:?}").contains("/observation/ingest"));
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
            close_timeout: Duration::from_secs(5),
        }
    }

    /// Registers the forwarder on `center` under `name` for every event,
    /// with [`Delivery::Background`] (the emitter only queues; the hook only
    /// moves the event into the forwarder's buffer), and routes its drop
    /// reports to `center`. The center's queue in front of the hook holds as
    /// many events as the forwarder's buffer ([`Overflow::DropOldest`]); it
    /// fills only if the hook's thread gets no CPU. Events are redacted by
    /// the center's [`Redaction`](crate::Redaction) before they leave the
    /// process. Dropping the guard flushes and shuts down.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{DevtoolsForwarder, EventCenter};
    ///
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9") // nothing listens there
    ///     .with_close_timeout(Duration::ZERO) // at drop, give up at once
    ///     .build()
    ///     .unwrap()
    ///     .register(&center, "devtools")
    ///     .unwrap();
    /// center.emitter("Agent").emit("model.requesting").send();
    /// let stats = guard.flush(Duration::from_millis(500)); // kept, retried
    /// assert_eq!((stats.accepted, stats.sent, stats.pending), (1, 0, 1));
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: &str,
    ) -> Result<DevtoolsGuard, RegisterError> {
        let capacity = self.inner.shared.config.capacity;
        let options =
            HookOptions::new().with_delivery(Delivery::background(capacity, Overflow::DropOldest));
        self.register_with(center, name, Patterns::All, options)
    }

    /// Registers like [`register`](Self::register), for the events
    /// `patterns` match and with `options` (for instance
    /// [`Delivery::Coalesce`], so streams of deltas arrive as summaries).
    /// Keep the delivery queued: the hook takes a lock.
    ///
    /// ```
    /// use event_center::{CoalescePolicy, Delivery, DevtoolsForwarder, EventCenter, HookOptions};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::coalesce(CoalescePolicy::new()));
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9")
    ///     .with_close_timeout(std::time::Duration::ZERO)
    ///     .build()
    ///     .unwrap()
    ///     .register_with(&center, "devtools", ["model.*", "agent_execution.*"], options)
    ///     .unwrap();
    /// assert_eq!(center.hook_names(), vec!["devtools"]);
    /// # drop(guard);
    /// ```
    pub fn register_with(
        self,
        center: &EventCenter,
        name: &str,
        patterns: impl Into<Patterns>,
        options: HookOptions,
    ) -> Result<DevtoolsGuard, RegisterError> {
        center.register_hook_with(name.to_owned(), patterns, options, self.clone())?;
        *self
            .inner
            .shared
            .reports
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((center.clone(), name.to_owned()));
        Ok(DevtoolsGuard {
            center: center.clone(),
            name: name.to_owned(),
            forwarder: Some(self),
        })
    }

    /// The exact request body a batch of `events` is sent as:
    /// `{"app_id":..,"group_id":..,"environment":..,"events":[..]}`.
    ///
    /// ```
    /// use event_center::{DevtoolsForwarder, Event};
    /// let f = DevtoolsForwarder::builder("http://h").with_app_id("a").build().unwrap();
    /// let body: serde_json::Value =
    ///     serde_json::from_slice(&f.ingest_body(&[Event::new("model.completed").into()])).unwrap();
    /// assert_eq!(body["app_id"], "a");
    /// assert_eq!(body["group_id"], serde_json::Value::Null);
    /// assert_eq!(body["events"][0]["event_type"], "model.completed");
    /// ```
    pub fn ingest_body(&self, events: &[Arc<Event>]) -> Vec<u8> {
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

    /// The forwarder's numbers: accepted, sent, dropped by reason, pending,
    /// requests, retries and the last error.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_center::{DevtoolsForwarder, Event, Hook};
    ///
    /// let f = DevtoolsForwarder::builder("http://127.0.0.1:9")
    ///     .with_buffer(2)
    ///     .with_batch(100, std::time::Duration::from_secs(60))
    ///     .with_close_timeout(std::time::Duration::ZERO)
    ///     .build()
    ///     .unwrap();
    /// for _ in 0..3 {
    ///     f.on_event(&Arc::new(Event::new("model.response.delta"))).unwrap();
    /// }
    /// let stats = f.stats();
    /// assert_eq!((stats.accepted, stats.pending, stats.dropped.high_frequency), (3, 2, 1));
    /// ```
    pub fn stats(&self) -> DevtoolsStats {
        self.inner.shared.stats()
    }

    /// Sends what is buffered now, without waiting for the batch delay, and
    /// waits until it is sent (or dropped) or `timeout` has passed. The
    /// answer's `pending` is what was left (still kept and retried).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use event_center::{DevtoolsForwarder, Event, Hook};
    ///
    /// let f = DevtoolsForwarder::builder("http://127.0.0.1:9")
    ///     .with_close_timeout(Duration::ZERO)
    ///     .build()
    ///     .unwrap();
    /// f.on_event(&Arc::new(Event::new("model.requesting"))).unwrap();
    /// let stats = f.flush(Duration::from_millis(50)); // nobody listens: left pending
    /// assert_eq!((stats.sent, stats.pending), (0, 1));
    /// ```
    pub fn flush(&self, timeout: Duration) -> DevtoolsStats {
        self.inner.shared.flush(timeout)
    }

    /// Sends what is buffered, waiting for a server that is down at most
    /// `timeout`, then stops the sender thread; what was left is counted as
    /// dropped (`shutdown`), and so is any event offered afterwards (the
    /// hook then fails, so the center reports it).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use event_center::{DevtoolsForwarder, Event, Hook};
    ///
    /// let f = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap();
    /// f.on_event(&Arc::new(Event::new("model.requesting"))).unwrap();
    /// let stats = f.shutdown(Duration::from_millis(50));
    /// assert_eq!((stats.pending, stats.dropped.shutdown), (0, 1));
    /// assert!(f.on_event(&Arc::new(Event::new("late"))).is_err());
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> DevtoolsStats {
        self.inner.shared.shutdown(timeout)
    }
}

impl Hook for DevtoolsForwarder {
    /// Moves the event into the buffer (making room by the overflow rule);
    /// fails only after [`shutdown`](DevtoolsForwarder::shutdown).
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        self.inner.shared.push(event)
    }
}
