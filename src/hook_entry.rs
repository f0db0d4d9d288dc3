//! A registered hook's entry and its accounting: the state shared by the
//! entry and its worker (`HookShared`), the per-hook `Counters`, the
//! `DropLedger` of drops not yet reported, why an event was dropped
//! (`DropReason`) and when a drop report is due (`Due`). Routing events to
//! hooks is `dispatch`'s; these are the types it, the registry and the
//! workers share.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::delivery::{Delivery, HookOptions};
use crate::event::now_millis;
use crate::hook::HookFn;
use crate::pattern::PatternSet;
use crate::sync::AtomicBool;
use crate::text::SharedStr;
use crate::worker::Worker;

/// Why an accepted event was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// The queue was full (`Overflow::DropNewest`).
    QueueFull,
    /// Pushed out of a full queue by a newer event (`Overflow::DropOldest`).
    Evicted,
    /// Queued for a hook that was unregistered (or replaced) first.
    Unregistered,
    /// Offered after the center was shut down.
    Shutdown,
    /// The hook's worker thread could not be started.
    WorkerUnavailable,
}

/// A hook's accounting. Every accepted event ends as exactly one of
/// delivered, failed or dropped, and is pending until then.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) pending: AtomicU64,
    pub(crate) queue_full: AtomicU64,
    pub(crate) evicted: AtomicU64,
    pub(crate) unregistered: AtomicU64,
    pub(crate) shutdown: AtomicU64,
    pub(crate) worker_unavailable: AtomicU64,
    pub(crate) high_water: AtomicU64,
    /// Drops not yet reported as an `event_center.events_dropped` event.
    pub(crate) unreported: DropLedger,
    /// When the last drop report went out (Unix ms).
    pub(crate) last_report: AtomicI64,
}

/// The drops of one hook not yet reported, and whether its worker has taken
/// its final report.
///
/// Every drop is counted here once and taken out by exactly one report. While
/// the worker runs, it takes them (at once, then at most once a second). Its
/// final report *seals* the ledger: a drop counted afterwards (an event
/// offered to the closed queue, a full queue's drop that raced the close) has
/// no worker left to report it, so whoever counts it is told to report it at
/// once. Count, take and seal are each one atomic read-modify-write of one
/// word, so under any interleaving a drop is either in the sealing take or
/// seen by its counter as sealed (model-checked by `worker::loom_model`).
pub(crate) struct DropLedger(crate::sync::AtomicU64);

impl DropLedger {
    /// The top bit: the worker has taken its final report.
    const SEALED: u64 = 1 << 63;

    /// Counts one drop; true if its counter must report it (the ledger is
    /// sealed). Release: the reason counter bumped before it is seen by the
    /// report that takes this drop.
    pub(crate) fn count(&self) -> bool {
        self.0.fetch_add(1, Ordering::AcqRel) & Self::SEALED != 0
    }

    /// Drops counted and not yet taken.
    pub(crate) fn pending(&self) -> u64 {
        self.0.load(Ordering::Acquire) & !Self::SEALED
    }

    /// Takes every drop counted so far for a report.
    pub(crate) fn take(&self) -> u64 {
        self.0.fetch_and(Self::SEALED, Ordering::AcqRel) & !Self::SEALED
    }

    /// Takes every drop counted so far for the worker's final report, and
    /// seals the ledger.
    pub(crate) fn seal(&self) -> u64 {
        self.0.swap(Self::SEALED, Ordering::AcqRel) & !Self::SEALED
    }
}

impl Default for DropLedger {
    fn default() -> Self {
        DropLedger(crate::sync::AtomicU64::new(0))
    }
}

/// Counters and state shared by a hook's entry and its worker.
pub(crate) struct HookShared {
    pub(crate) id: u64,
    pub(crate) name: SharedStr,
    /// False once unregistered: checked before every delivery starts.
    pub(crate) active: AtomicBool,
    pub(crate) counters: Counters,
}

impl HookShared {
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// Settles `n` pending events as delivered.
    pub(crate) fn delivered(&self, n: u64) {
        self.counters.delivered.fetch_add(n, Ordering::Relaxed);
        self.counters.pending.fetch_sub(n, Ordering::Relaxed);
    }

    /// Settles `n` pending events as failed.
    pub(crate) fn failed(&self, n: u64) {
        self.counters.failed.fetch_add(n, Ordering::Relaxed);
        self.counters.pending.fetch_sub(n, Ordering::Relaxed);
    }

    /// Counts `n` events as accepted and pending.
    pub(crate) fn accept(&self, n: u64) {
        self.counters.accepted.fetch_add(n, Ordering::Relaxed);
        self.counters.pending.fetch_add(n, Ordering::Relaxed);
    }

    /// Settles a pending event as dropped for `reason`, to be reported; true
    /// if the caller must report it at once ([`DropLedger::count`]). The
    /// worker's queue counts its drops under its lock, so the worker sees
    /// them when it decides whether to wake for a report.
    #[must_use = "a drop counted after the worker's final report must be reported by its counter"]
    pub(crate) fn count_drop(&self, reason: DropReason) -> bool {
        let c = &self.counters;
        let counter = match reason {
            DropReason::QueueFull => &c.queue_full,
            DropReason::Evicted => &c.evicted,
            DropReason::Unregistered => &c.unregistered,
            DropReason::Shutdown => &c.shutdown,
            DropReason::WorkerUnavailable => &c.worker_unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        c.pending.fetch_sub(1, Ordering::Relaxed);
        c.unreported.count()
    }

    /// How long ago the last drop report went out.
    pub(crate) fn since_last_report(&self) -> Duration {
        let last = self.counters.last_report.load(Ordering::Relaxed);
        Duration::from_millis(now_millis().saturating_sub(last).max(0) as u64)
    }
}

pub(crate) struct HookEntry {
    pub(crate) shared: Arc<HookShared>,
    pub(crate) patterns: PatternSet,
    pub(crate) hook: HookFn,
    pub(crate) delivery: Delivery,
    /// Whether the hook sees redacted events.
    pub(crate) redacted: bool,
    /// The queue and thread of a queued hook (and of an async hook, for the
    /// synchronous emit path), started on first use.
    pub(crate) worker: OnceLock<Arc<Worker>>,
}

impl HookEntry {
    pub(crate) fn new(
        id: u64,
        name: SharedStr,
        patterns: PatternSet,
        hook: HookFn,
        options: HookOptions,
    ) -> Arc<HookEntry> {
        Arc::new(HookEntry {
            shared: Arc::new(HookShared {
                id,
                name,
                active: AtomicBool::new(true),
                counters: Counters {
                    last_report: AtomicI64::new(i64::MIN / 2),
                    ..Counters::default()
                },
            }),
            patterns,
            hook,
            delivery: options.delivery,
            redacted: options.redacted,
            worker: OnceLock::new(),
        })
    }

    /// Whether events reach this hook through its worker's queue.
    pub(crate) fn is_queued(&self) -> bool {
        !matches!(self.delivery, Delivery::Inline)
    }

    /// Whether this hook may have a worker (queued, or async).
    pub(crate) fn is_queued_or_async(&self) -> bool {
        self.is_queued() || matches!(self.hook, HookFn::Async(_))
    }
}

/// When a drop report is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// The running worker's report: at once for the first drops, then at
    /// most once per [`DROP_REPORT_INTERVAL`](crate::worker::DROP_REPORT_INTERVAL).
    Paced,
    /// The worker's final report, when it stops: whatever is unreported, and
    /// the ledger is sealed.
    Final,
    /// A drop counted after the final report, reported by its counter.
    Now,
}
