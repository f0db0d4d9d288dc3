//! What the hook and the publisher share: the counters, the close, and the
//! failure reports.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use async_nats::Subject;
use tokio::sync::Notify;

use crate::sinks::nats::{NatsError, NatsErrorKind};

/// At most one failure report (a hook error) per interval.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// A sink's numbers. Every event the hook took ends as published,
/// duplicate or lost and is pending until then:
/// `accepted == published + duplicates + lost + pending`.
///
/// ```
/// let stats = event_center::NatsSinkStats::default();
/// assert_eq!(stats.accepted, stats.published + stats.duplicates + stats.lost + stats.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatsSinkStats {
    /// Events the hook took.
    pub accepted: u64,
    /// Events the stream stored (their publish was acknowledged).
    pub published: u64,
    /// Events the stream acknowledged as duplicates: their id was stored
    /// already (a re-published event, or a retry of a publish whose ack was
    /// lost), so they were not stored again.
    pub duplicates: u64,
    /// Events not published: the sink was shut down first, or the server
    /// refused them for good (larger than its `max_payload`).
    pub lost: u64,
    /// Events published or queued and not yet acknowledged.
    pub pending: u64,
    /// Failed publish attempts that were retried (the events kept).
    pub retries: u64,
    /// The last failure: the subject and the error.
    pub last_error: Option<String>,
}

/// One event on its way: its subject and the message (payload and
/// `Nats-Msg-Id` header), kept for retries.
pub(super) struct Outgoing {
    pub(super) subject: Subject,
    pub(super) publish: PublishMessage,
}

/// How an event's publication ended.
pub(super) enum Settled {
    Published,
    Duplicate,
    Lost,
}

/// What the sink, its guard and its thread share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Wakes `flush` and `shutdown` callers.
    pub(super) settled: Condvar,
    /// Wakes the thread when a shutdown starts.
    pub(super) wake: Notify,
    pub(super) thread: Mutex<Option<JoinHandle<()>>>,
    pub(super) prefix: String,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) stats: NatsSinkStats,
    /// Set by shutdown: its deadline.
    pub(super) closing: Option<Instant>,
    /// The thread has ended.
    pub(super) stopped: bool,
    /// Failed attempts not yet reported.
    unreported: u64,
    last_report: Option<Instant>,
}

impl State {
    pub(super) fn stats(&self) -> NatsSinkStats {
        let mut stats = self.stats.clone();
        stats.pending = stats
            .accepted
            .saturating_sub(stats.published + stats.duplicates + stats.lost);
        stats
    }

    /// The failures since the last report, as the hook's error, at most
    /// once per [`REPORT_INTERVAL`].
    pub(super) fn take_report(&mut self) -> Option<NatsError> {
        if self.unreported == 0
            || self
                .last_report
                .is_some_and(|at| at.elapsed() < REPORT_INTERVAL)
        {
            return None;
        }
        self.last_report = Some(Instant::now());
        let failed = std::mem::take(&mut self.unreported);
        Some(NatsError::new(
            NatsErrorKind::Publish,
            format!(
                "{failed} failed attempt(s) since the last report ({} retried and {} events \
                 lost so far); the last: {}",
                self.stats.retries,
                self.stats.lost,
                self.stats.last_error.as_deref().unwrap_or("unknown"),
            ),
        ))
    }
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn settle(&self, settled: Settled) {
        let mut s = self.lock();
        match settled {
            Settled::Published => s.stats.published += 1,
            Settled::Duplicate => s.stats.duplicates += 1,
            Settled::Lost => s.stats.lost += 1,
        }
        drop(s);
        self.settled.notify_all();
    }

    pub(super) fn fail(&self, subject: &Subject, error: &dyn fmt::Display, retried: bool) {
        let mut s = self.lock();
        s.unreported += 1;
        if retried {
            s.stats.retries += 1;
        }
        s.stats.last_error = Some(format!("publish to `{subject}`: {error}"));
    }

    pub(super) fn begin_close(&self, timeout: Duration) -> Instant {
        let mut s = self.lock();
        *s.closing.get_or_insert_with(|| Instant::now() + timeout)
    }

    /// Waits until nothing is pending, the thread ended or `deadline`.
    pub(super) fn wait_settled(&self, deadline: Instant) -> NatsSinkStats {
        let mut s = self.lock();
        loop {
            let stats = s.stats();
            let now = Instant::now();
            if stats.pending == 0 || s.stopped || now >= deadline {
                return stats;
            }
            s = self
                .settled
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}
