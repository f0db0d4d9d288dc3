//! A center's counters (`stats`), `flush` and `shutdown`, and the reports
//! they return: `CenterStats`, `HookStats`, `Dropped`, `FlushReport`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::delivery::Delivery;
use crate::hook_entry::{DropReason, HookEntry};

use super::*;

impl EventCenter {
    /// Counters: per hook, and for the center.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("ok", "a.*", |_: &Event| {}).unwrap();
    /// center.emitter("S").emit("a.b").send();
    /// let stats = center.stats();
    /// assert_eq!(stats.hooks[0].name, "ok");
    /// assert_eq!(stats.hooks[0].delivered, 1);
    /// ```
    pub fn stats(&self) -> CenterStats {
        let hooks = self
            .inner
            .registry
            .hooks()
            .iter()
            .map(|e| hook_stats(e))
            .collect();
        CenterStats {
            hooks,
            hook_failures: self.inner.hook_failures.load(Ordering::Relaxed),
            recursion_cut: self.inner.recursion_cut.load(Ordering::Relaxed),
            last_seq: self.inner.seq.load(Ordering::Relaxed),
        }
    }

    /// Waits until every hook's queue is drained and every coalescing buffer
    /// flushed, or until `timeout` has passed, and reports the counts of
    /// every hook with a queue (including unregistered hooks whose workers
    /// are still draining). Events emitted meanwhile are waited for too.
    ///
    /// Called from a hook's own worker, it cannot wait for that worker: the
    /// report then shows its events as pending.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block));
    /// center.register_hook_with("sink", "*", options, |_: &Event| {}).unwrap();
    /// for _ in 0..100 {
    ///     center.emitter("S").emit("a.b").send();
    /// }
    /// let report = center.flush(Duration::from_secs(5));
    /// assert!(report.is_complete());
    /// assert_eq!(report.delivered, 100);
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut hooks = self.inner.queued_hooks();
        loop {
            let tickets: Vec<_> = hooks
                .iter()
                .filter_map(|e| e.worker.get().map(|w| (w, w.ask_flush())))
                .collect();
            let mut drained = true;
            for (worker, ticket) in tickets {
                drained &= worker.wait_flushed(ticket, deadline);
            }
            // Hooks' workers may have emitted meanwhile (failure reports,
            // relays): into hooks that had drained already, or that had no
            // worker yet. Those are flushed in another round.
            for entry in self.inner.queued_hooks() {
                if !hooks.iter().any(|known| Arc::ptr_eq(known, &entry)) {
                    hooks.push(entry);
                }
            }
            let report = FlushReport::of(&hooks, started.elapsed());
            if !drained || report.pending == 0 {
                return report;
            }
        }
    }

    /// [`flush`](EventCenter::flush) from async code: waits on tokio's
    /// blocking pool, not on the calling task's thread.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// let report = center.flush_async(std::time::Duration::from_secs(1)).await;
    /// assert!(report.is_complete());
    /// # });
    /// ```
    pub async fn flush_async(&self, timeout: Duration) -> FlushReport {
        let center = self.clone();
        self.blocking(move || center.flush(timeout)).await
    }

    /// Stops the center's workers: queues stop taking events (an event
    /// offered to a queued hook afterwards is dropped and counted as
    /// `shutdown`), what they hold is delivered and coalescing buffers are
    /// flushed, until `timeout`. The report says what was delivered, failed
    /// and dropped, and what is still pending when the timeout came (those
    /// events are still delivered afterwards if the process lives on).
    /// Inline hooks keep working.
    ///
    /// A program that ends with `shutdown` loses nothing that was accepted
    /// unless the report says so.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{CoalescePolicy, Delivery, Event, EventCenter, HookOptions};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::coalesce(CoalescePolicy::new()));
    /// center.register_hook_with("ui", "*", options, |_: &Event| {}).unwrap();
    /// let emitter = center.emitter("Model");
    /// for _ in 0..10 {
    ///     emitter.emit("model.response.delta").send(); // buffered
    /// }
    /// let report = center.shutdown(Duration::from_secs(5));
    /// assert_eq!((report.accepted, report.delivered, report.pending), (10, 10, 0));
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = started + timeout;
        self.inner.shut_down.store(true, Ordering::Release);
        let hooks = self.inner.queued_hooks();
        for worker in hooks.iter().filter_map(|e| e.worker.get()) {
            worker.close(DropReason::Shutdown);
        }
        for worker in hooks.iter().filter_map(|e| e.worker.get()) {
            worker.wait_finished(deadline);
        }
        FlushReport::of(&hooks, started.elapsed())
    }

    /// [`shutdown`](EventCenter::shutdown) from async code: waits on tokio's
    /// blocking pool, not on the calling task's thread.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// let report = center.shutdown_async(std::time::Duration::from_secs(1)).await;
    /// assert_eq!(report.pending, 0);
    /// # });
    /// ```
    pub async fn shutdown_async(&self, timeout: Duration) -> FlushReport {
        let center = self.clone();
        self.blocking(move || center.shutdown(timeout)).await
    }

    /// Runs a wait on tokio's blocking pool; if that is unavailable (a
    /// panicking closure cannot happen here, but a runtime shutting down can
    /// cancel it), reports the counts as they are.
    async fn blocking(&self, wait: impl FnOnce() -> FlushReport + Send + 'static) -> FlushReport {
        let started = Instant::now();
        match tokio::task::spawn_blocking(wait).await {
            Ok(report) => report,
            Err(_) => FlushReport::of(&self.inner.queued_hooks(), started.elapsed()),
        }
    }
}

/// A snapshot of a center's counters; see [`EventCenter::stats`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CenterStats {
    /// Per registered hook, in registration order.
    pub hooks: Vec<HookStats>,
    /// Hook failures (panics and errors), all hooks together, including hooks
    /// since unregistered.
    pub hook_failures: u64,
    /// Deliveries cut because hooks emitted from inside hooks deeper than the
    /// recursion bound.
    pub recursion_cut: u64,
    /// The last `seq` assigned.
    pub last_seq: u64,
}

/// One hook's counters. Every event offered to the hook is `accepted`, and
/// ends as exactly one of `delivered`, `failed` or `dropped`; until then it
/// is `pending` (queued, being handled, or in a coalescing buffer). When
/// nothing moves (after a [`flush`](EventCenter::flush)),
/// `accepted == delivered + failed + dropped.total() + pending`.
///
/// Events a coalescing hook received as one summary count one by one.
///
/// ```
/// use event_center::{Event, EventCenter};
/// let center = EventCenter::new();
/// center.register_hook("flaky", "*", |e: &Event| {
///     if e.event_type == "a.bad" { panic!("boom") }
/// }).unwrap();
/// center.emitter("S").emit("a.good").send();
/// center.emitter("S").emit("a.bad").send();
/// let s = &center.stats().hooks[0];
/// assert_eq!((s.accepted, s.delivered, s.failed, s.pending), (2, 1, 1, 0));
/// assert_eq!(s.accepted, s.delivered + s.failed + s.dropped.total() + s.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HookStats {
    /// The hook's name.
    pub name: String,
    /// How the hook receives its events.
    pub delivery: Delivery,
    /// Events offered to the hook.
    pub accepted: u64,
    /// Events the hook handled without error.
    pub delivered: u64,
    /// Events on which the hook panicked or returned an error.
    pub failed: u64,
    /// Events that never reached the hook, by reason.
    pub dropped: Dropped,
    /// Events accepted and not yet delivered, failed or dropped.
    pub pending: u64,
    /// The most events the hook's queue ever held at once.
    pub high_water: u64,
    /// Whether the hook is still registered (a report of
    /// [`flush`](EventCenter::flush) also lists unregistered hooks whose
    /// workers were still draining).
    pub registered: bool,
}

/// Events that never reached a hook, by reason; see [`HookStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The queue was full and the new event was dropped
    /// ([`Overflow::DropNewest`](crate::Overflow::DropNewest)).
    pub queue_full: u64,
    /// Queued events pushed out by newer ones
    /// ([`Overflow::DropOldest`](crate::Overflow::DropOldest)).
    pub evicted: u64,
    /// Queued for a hook that was unregistered or replaced first.
    pub unregistered: u64,
    /// Offered after [`shutdown`](EventCenter::shutdown).
    pub shutdown: u64,
    /// The hook's worker thread could not be started.
    pub worker_unavailable: u64,
}

impl Dropped {
    /// All drops together.
    ///
    /// ```
    /// let mut d = event_center::Dropped::default();
    /// d.evicted = 2;
    /// d.queue_full = 1;
    /// assert_eq!(d.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.queue_full + self.evicted + self.unregistered + self.shutdown + self.worker_unavailable
    }
}

/// What [`flush`](EventCenter::flush) and [`shutdown`](EventCenter::shutdown)
/// report: the counts of every hook with a queue, summed, as they stood when
/// the wait ended.
///
/// ```
/// use std::time::Duration;
/// let report = event_center::EventCenter::new().flush(Duration::from_secs(1));
/// assert!(report.is_complete());
/// assert_eq!(report.accepted, report.delivered + report.failed + report.dropped + report.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Events offered to the hooks.
    pub accepted: u64,
    /// Events the hooks handled without error.
    pub delivered: u64,
    /// Events on which a hook panicked or returned an error.
    pub failed: u64,
    /// Events that never reached their hook (reasons in `hooks`).
    pub dropped: u64,
    /// Events still queued or buffered when the wait ended.
    pub pending: u64,
    /// How long the wait took.
    pub elapsed: Duration,
    /// Per hook with a queue.
    pub hooks: Vec<HookStats>,
}

impl FlushReport {
    pub(super) fn of(hooks: &[Arc<HookEntry>], elapsed: Duration) -> FlushReport {
        let hooks: Vec<HookStats> = hooks.iter().map(|e| hook_stats(e)).collect();
        let sum = |f: fn(&HookStats) -> u64| hooks.iter().map(f).sum();
        FlushReport {
            accepted: sum(|h| h.accepted),
            delivered: sum(|h| h.delivered),
            failed: sum(|h| h.failed),
            dropped: sum(|h| h.dropped.total()),
            pending: sum(|h| h.pending),
            elapsed,
            hooks,
        }
    }

    /// Whether nothing was pending when the wait ended.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(event_center::EventCenter::new().shutdown(Duration::ZERO).is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.pending == 0
    }
}

pub(super) fn hook_stats(entry: &HookEntry) -> HookStats {
    let c = &entry.shared.counters;
    let load = |counter: &AtomicU64| counter.load(Ordering::Acquire);
    // Outcomes first, then pending, then accepted: an event settling between
    // the loads can then only make `accepted` look larger, never smaller.
    let dropped = Dropped {
        queue_full: load(&c.queue_full),
        evicted: load(&c.evicted),
        unregistered: load(&c.unregistered),
        shutdown: load(&c.shutdown),
        worker_unavailable: load(&c.worker_unavailable),
    };
    let delivered = load(&c.delivered);
    let failed = load(&c.failed);
    let pending = load(&c.pending);
    HookStats {
        name: entry.shared.name.to_string(),
        delivery: entry.delivery.clone(),
        accepted: load(&c.accepted),
        delivered,
        failed,
        dropped,
        pending,
        high_water: load(&c.high_water),
        registered: entry.shared.is_active(),
    }
}
