//! The builder: the subject prefix, the stream, the patterns, the delivery
//! and the ack window, checked, and the sink started and registered from
//! them.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use super::guard::NatsGuard;
use super::hook::NatsSink;
use super::publisher::start;
use super::shared::{Shared, State};
use crate::center::EventCenter;
use crate::delivery::{Delivery, HookOptions};
use crate::pattern::Patterns;
use crate::sinks::nats::{check_name, check_prefix, NatsError, NatsErrorKind};
use crate::sinks::registration::Registration;

#[cfg(doc)]
use crate::delivery::Overflow;

/// Builds a [`NatsSink`] and registers it; see [`NatsSink::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{Delivery, EventCenter, NatsSink, Overflow};
///
/// let center = EventCenter::new();
/// let guard = NatsSink::builder("nats://127.0.0.1:4222")
///     .with_prefix("acme.events")
///     .with_stream("ACME_EVENTS")
///     .with_patterns(["model.*", "tool.*"])
///     .with_delivery(Delivery::background(100_000, Overflow::Block))
///     .with_duplicate_window(Duration::from_secs(600))
///     .with_window(4096)
///     .with_flush_timeout(Duration::from_secs(10))
///     .register(&center, "nats")?;
/// assert_eq!(guard.subject("model.completed"), "acme.events.model.completed");
/// # Ok::<(), event_center::NatsError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until register() is called"]
pub struct NatsSinkBuilder {
    pub(super) url: String,
    pub(super) prefix: String,
    pub(super) stream: String,
    pub(super) patterns: Patterns,
    pub(super) delivery: Delivery,
    pub(super) duplicate_window: Duration,
    pub(super) window: usize,
    pub(super) flush_timeout: Duration,
}

impl NatsSinkBuilder {
    /// The subject prefix (default `events`): an event of type `t` goes to
    /// `<prefix>.t` (see [`NatsGuard::subject`]).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The JetStream stream (default `EVENTS`). [`register`](Self::register)
    /// creates it, taking `<prefix>.>`, or binds it if it exists.
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// The event types the sink publishes (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes; a bad pattern is reported by
    /// [`register`](Self::register).
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// How the sink's hook receives its events.
    /// Default: `Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest)`,
    /// a queue that never makes the emitter wait; while the server is
    /// unreachable and the queue full, new events are dropped and counted
    /// (in [`EventCenter::stats`]). Choose [`Overflow::Block`] to lose
    /// nothing and let the emitter wait instead. [`Delivery::Inline`] would
    /// wait for the network on the emitting thread and is refused by
    /// [`register`](Self::register).
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// The duplicate window of a stream the sink creates (default 2
    /// minutes, the server's): a publish whose event id the stream stored
    /// within this window is acknowledged as a duplicate and not stored
    /// again, which makes retries safe. An existing stream keeps its own.
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// How many publishes may await their ack at once (default 1024; 0 is
    /// taken as 1). Events are published back to back and their acks
    /// awaited together, so a round trip is paid per window, not per event.
    /// When the window is full (the server is slow or down) the hook waits,
    /// and the center's queue in front of it takes the events.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self
    }

    /// How long dropping the [`NatsGuard`] waits for the sink's queue and
    /// the last acks (default 5 s); what is left then counts as lost.
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Connects to the server, creates or binds the stream, starts the
    /// sink's thread (a single-threaded tokio runtime of its own, so this
    /// works with or without a runtime around it) and registers the sink on
    /// `center` under `name`, with its patterns and its queued delivery.
    /// Blocks until connected: at most a few seconds when nothing answers.
    /// Returns the guard, the sink's only handle, which drains and shuts the
    /// sink down when dropped.
    ///
    /// # Errors
    ///
    /// A [`NatsError`]: an invalid prefix, stream name or delivery
    /// ([`NatsErrorKind::InvalidOption`]), no server at the URL
    /// ([`NatsErrorKind::Connect`]), a stream that cannot be created or
    /// takes other subjects ([`NatsErrorKind::Stream`]), or the center
    /// refused the hook (a name taken or blank, a bad pattern:
    /// [`NatsErrorKind::Register`], with the center's error in
    /// [`register_error`](NatsError::register_error)).
    ///
    /// ```
    /// use event_center::{EventCenter, NatsErrorKind, NatsSink};
    ///
    /// let center = EventCenter::new();
    /// let err = NatsSink::builder("nats://127.0.0.1:9").register(&center, "nats").unwrap_err(); // nothing there
    /// assert_eq!(err.kind(), NatsErrorKind::Connect);
    /// assert!(err.to_string().contains("127.0.0.1:9"));
    /// ```
    pub fn register(self, center: &EventCenter, name: &str) -> Result<NatsGuard, NatsError> {
        if self.delivery == Delivery::Inline {
            return Err(NatsError::new(
                NatsErrorKind::InvalidOption,
                "Delivery::Inline would wait for the network on the emitting thread: \
                 use Delivery::background",
            ));
        }
        check_prefix(&self.prefix)?;
        check_name("stream name", &self.stream)?;
        let (tx, rx) = mpsc::channel(self.window);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            settled: Condvar::new(),
            wake: Notify::new(),
            thread: Mutex::new(None),
            prefix: self.prefix.clone(),
        });
        let handle = start(&self, shared.clone(), rx)?;
        *shared.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        let sink = NatsSink {
            shared,
            tx,
            url: self.url,
            stream: self.stream,
        };
        let options = HookOptions::new().with_delivery(self.delivery);
        let registration = Registration::new(
            center,
            name,
            self.patterns,
            options,
            sink,
            self.flush_timeout,
        )
        .map_err(NatsError::register)?;
        Ok(NatsGuard { registration })
    }
}
