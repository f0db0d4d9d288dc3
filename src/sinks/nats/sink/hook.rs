//! The sink itself: the hook that hands each event to the publisher, and its
//! registration, flush and shutdown.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use async_nats::Subject;
use tokio::sync::mpsc;

use super::builder::NatsSinkBuilder;
use super::guard::NatsGuard;
use super::shared::{NatsSinkStats, Outgoing, Settled, Shared};
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::sinks::nats::{
    subject_for, NatsError, NatsErrorKind, DEFAULT_DUPLICATE_WINDOW, DEFAULT_PREFIX, DEFAULT_STREAM,
};
use crate::text::SharedStr;

/// Publishes awaiting their ack at once, by default.
const DEFAULT_WINDOW: usize = 1024;

/// How long dropping the guard waits for the last acks, by default.
const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// An [`EventCenter`] hook that publishes each event to a NATS JetStream
/// stream: its Agently JSON to `<prefix>.<event type>` (see
/// [`subject`](NatsSink::subject)), with its `event_id` as the
/// `Nats-Msg-Id` header, so the stream stores each event once however often
/// it is published within its duplicate window.
///
/// [`register`](NatsSink::register) registers it on a background queue, so
/// the emitter only queues the event. The hook's worker serializes it and
/// hands it to the sink's thread, which publishes back to back and awaits
/// the acks together (up to [`with_window`](NatsSinkBuilder::with_window)
/// at once). A publish that fails (no ack in time, the server restarting)
/// is retried with a backoff until it is acknowledged or the sink shuts
/// down; a retry of a publish that was stored after all is acknowledged as
/// a duplicate. Retried events may reach the stream after later ones:
/// order by `seq` or `timestamp`, not by stream position.
///
/// Failures never reach the emitter: they are counted in
/// [`NatsSinkStats`], and the hook returns them (at most once a second,
/// summed) from its next call, so the center counts them and reports
/// `event_center.hook_failed`. Keep the returned [`NatsGuard`] alive:
/// dropping it drains the queue and waits for the last acks.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let nats = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
/// center.emitter("Planner").emit("action.loop_started").send();
/// let stats = nats.flush(Duration::from_secs(5));
/// assert_eq!((stats.published, stats.pending), (2, 0)); // and its tool.loop_started twin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct NatsSink {
    pub(super) shared: Arc<Shared>,
    pub(super) tx: mpsc::Sender<Outgoing>,
    pub(super) url: String,
    pub(super) stream: String,
    pub(super) patterns: Patterns,
    pub(super) delivery: Delivery,
    pub(super) close_timeout: Duration,
}

impl fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSink")
            .field("url", &self.url)
            .field("prefix", &self.shared.prefix)
            .field("stream", &self.stream)
            .field("patterns", &self.patterns)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl NatsSink {
    /// A builder for a sink publishing to the NATS server at `url`
    /// (`nats://host:4222`, or several, comma-separated).
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222");
    /// assert!(format!("{b:?}").contains("prefix: \"events\""));
    /// ```
    pub fn builder(url: impl Into<String>) -> NatsSinkBuilder {
        NatsSinkBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            stream: DEFAULT_STREAM.to_owned(),
            patterns: Patterns::All,
            delivery: Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest),
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            window: DEFAULT_WINDOW,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }

    /// Registers the sink on `center` under `name`, with its patterns and
    /// its queued [`Delivery`], and returns the guard that drains and shuts
    /// it down when dropped.
    ///
    /// # Errors
    ///
    /// The center's [`RegisterError`]: the name is taken or blank, or a
    /// pattern does not compile.
    ///
    /// ```no_run
    /// use event_center::{EventCenter, NatsSink, RegisterErrorKind};
    ///
    /// let center = EventCenter::new();
    /// let sink = NatsSink::builder("nats://127.0.0.1:4222").with_patterns("model.{a,b}").build()?;
    /// let err = sink.register(&center, "nats").unwrap_err();
    /// assert!(matches!(err.kind(), RegisterErrorKind::InvalidPattern(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: impl Into<SharedStr>,
    ) -> Result<NatsGuard, RegisterError> {
        let name = name.into();
        let options = HookOptions::new().with_delivery(self.delivery.clone());
        center.register_hook_with(name.clone(), self.patterns.clone(), options, self.clone())?;
        Ok(NatsGuard {
            center: center.clone(),
            name,
            sink: self,
            closed: false,
        })
    }

    /// The subject an event of this type is published to: the prefix, then
    /// one token per dot-separated part of the type. Parts NATS can carry
    /// are kept as they are; a byte it cannot (whitespace, `*`, `>`,
    /// non-ASCII) and `%` become `%XX`, and an empty part becomes `%`, so
    /// every type has a valid subject of its own and the type can be read
    /// back from it.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.subject("model.completed"), "events.model.completed");
    /// assert_eq!(sink.subject("my tool.*"), "events.my%20tool.%2A");
    /// assert_eq!(sink.subject("a..b"), "events.a.%.b");
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn subject(&self, event_type: &str) -> String {
        subject_for(&self.shared.prefix, event_type)
    }

    /// The sink's numbers: accepted, published, duplicates, lost, pending,
    /// retries and the last failure.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.stats().accepted, 0);
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn stats(&self) -> NatsSinkStats {
        self.shared.lock().stats()
    }

    /// Waits until every event the hook took is acknowledged (or lost), or
    /// until `timeout`; the answer's `pending` is what was left (still
    /// retried). Events still in the center's queue are not waited for:
    /// [`NatsGuard::flush`] does both.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.flush(std::time::Duration::from_secs(1)).pending, 0);
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> NatsSinkStats {
        self.shared.wait_settled(Instant::now() + timeout)
    }

    /// Stops taking events, waits up to `timeout` for the acks of those
    /// taken, and stops the sink's thread; what is left counts as lost, and
    /// so does any event offered afterwards (the hook then fails, so the
    /// center reports it).
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// let stats = sink.shutdown(std::time::Duration::from_secs(1));
    /// assert_eq!((stats.pending, stats.lost), (0, 0));
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> NatsSinkStats {
        self.shared.begin_close(timeout);
        self.shared.wake.notify_one();
        let handle = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.stats()
    }
}

impl Hook for NatsSink {
    /// Hands the event to the sink's thread (waiting while its window is
    /// full); returns the failures noted since the last report.
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        let report = {
            let mut s = self.shared.lock();
            s.stats.accepted += 1;
            if s.closing.is_some() {
                s.stats.lost += 1;
                return Err(NatsError::new(NatsErrorKind::Closed, "event dropped").into());
            }
            s.take_report()
        };
        let lost = |error: NatsError| {
            self.shared.settle(Settled::Lost);
            Err(error.into())
        };
        let payload = match serde_json::to_vec(&**event) {
            Ok(payload) => payload,
            Err(e) => {
                let why = format!("event {} cannot be serialized: {e}", event.event_id);
                return lost(NatsError::new(NatsErrorKind::Publish, why));
            }
        };
        let outgoing = Outgoing {
            subject: Subject::from(self.subject(&event.event_type)),
            publish: PublishMessage::build()
                .payload(payload.into())
                .message_id(event.event_id.to_string()),
        };
        if self.tx.blocking_send(outgoing).is_err() {
            return lost(NatsError::new(NatsErrorKind::Closed, "event dropped"));
        }
        report.map_or(Ok(()), |error| Err(error.into()))
    }
}
