//! The sink itself: the hook that hands each event to the publisher, and
//! its own flush (the acks) and close (the publisher's thread).

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream::message::PublishMessage;
use async_nats::Subject;
use tokio::sync::mpsc;

use super::builder::NatsSinkBuilder;
use super::shared::{Outgoing, Settled, Shared};
use crate::delivery::{Delivery, Overflow, DEFAULT_CAPACITY};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::sinks::nats::{
    subject_for, NatsError, NatsErrorKind, DEFAULT_DUPLICATE_WINDOW, DEFAULT_PREFIX, DEFAULT_STREAM,
};
use crate::sinks::registration::{SinkEnd, DEFAULT_FLUSH_TIMEOUT};

#[cfg(doc)]
use super::guard::NatsGuard;
#[cfg(doc)]
use super::shared::NatsSinkStats;
#[cfg(doc)]
use crate::center::EventCenter;

/// Publishes awaiting their ack at once, by default.
const DEFAULT_WINDOW: usize = 1024;

/// An [`EventCenter`] hook that publishes each event to a NATS JetStream
/// stream: its Agently JSON to `<prefix>.<event type>` (see
/// [`subject`](super::guard::NatsGuard::subject)), with its `event_id` as the
/// `Nats-Msg-Id` header, so the stream stores each event once however often
/// it is published within its duplicate window.
///
/// [`NatsSink::builder`] sets it up and
/// [`register`](NatsSinkBuilder::register) connects, registers it on a
/// background queue and returns the [`NatsGuard`], the sink's only handle:
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
/// [`NatsSinkStats`], and the hook returns them as a [`NatsError`] (at most
/// once a second, summed) from its next call, so the center counts them as
/// failed and reports `event_center.hook_failed`. Keep the guard alive:
/// dropping it drains the queue and waits for the last acks.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let nats = NatsSink::builder("nats://127.0.0.1:4222").register(&center, "nats")?;
/// center.emitter("Planner").emit("action.loop_started").send();
/// assert!(nats.flush(Duration::from_secs(5)).is_complete());
/// let stats = nats.stats();
/// assert_eq!((stats.published, stats.pending), (2, 0)); // and its tool.loop_started twin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NatsSink {
    pub(super) shared: Arc<Shared>,
    pub(super) tx: mpsc::Sender<Outgoing>,
    pub(super) url: String,
    pub(super) stream: String,
}

impl fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSink")
            .field("url", &self.url)
            .field("prefix", &self.shared.prefix)
            .field("stream", &self.stream)
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
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
    }

    /// The subject an event of this type is published to; see
    /// [`NatsGuard::subject`].
    pub(super) fn subject(&self, event_type: &str) -> String {
        subject_for(&self.shared.prefix, event_type)
    }
}

impl SinkEnd for NatsSink {
    /// Waits until every event the hook took is acknowledged (or lost), or
    /// until `deadline`; what is left stays pending and is still retried.
    fn flush_own(&self, deadline: Instant) {
        self.shared.wait_settled(deadline);
    }

    /// Stops taking events, waits until `deadline` for the acks of those
    /// taken, and stops the sink's thread; what is left counts as lost, and
    /// so does any event offered afterwards (the hook then fails, so the
    /// center reports it).
    fn close(&self, deadline: Instant) {
        self.shared
            .begin_close(deadline.saturating_duration_since(Instant::now()));
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
