//! The bounded buffer the hook fills and the sender empties, with the
//! counters and the state they share, and the drop reports.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::builder::Config;
use super::error::{DevtoolsError, DevtoolsErrorKind};
use super::stats::DevtoolsStats;
use crate::center::EventCenter;
use crate::coalesce::is_high_frequency;
use crate::event::{Event, Level};
use crate::hook::HookResult;

/// The source of the forwarder's drop reports.
const REPORT_SOURCE: &str = "DevtoolsForwarder";

/// The event type of drop reports (the center's own type for them).
const EVENTS_DROPPED: &str = "event_center.events_dropped";

/// At most one drop report per interval (flush and shutdown report at once).
pub(super) const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Why a buffered event may go first when the buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Normal,
    HighFrequency,
    Coalesced,
}

fn classify(event: &Event) -> Class {
    if event.meta.get("coalesced") == Some(&Value::Bool(true)) {
        Class::Coalesced
    } else if is_high_frequency(event) {
        Class::HighFrequency
    } else {
        Class::Normal
    }
}

/// A buffered event and its acceptance number (buffers stay in that order).
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) event: Arc<Event>,
    class: Class,
}

/// The buffer, the counters and the sender's state, under one lock.
#[derive(Default)]
pub(super) struct State {
    /// Events that go only when nothing droppable is left (oldest first).
    pub(super) normal: VecDeque<Entry>,
    /// High-frequency and coalesced events: dropped first, oldest first.
    pub(super) droppable: VecDeque<Entry>,
    /// When the buffer last became non-empty.
    pub(super) first_at: Option<Instant>,
    next_seq: u64,
    /// The acceptance number of the first unsettled event being sent.
    pub(super) inflight_first: Option<u64>,
    pub(super) inflight: u64,
    /// Send at once while events accepted before this number are buffered.
    pub(super) flush_target: u64,
    /// Set by shutdown: its deadline.
    pub(super) closing: Option<Instant>,
    /// The sender thread has ended.
    pub(super) stopped: bool,
    /// Callers of `flush` or `shutdown` waiting.
    pub(super) waiters: usize,
    /// The sender is asleep on `work`.
    pub(super) sender_waiting: bool,
    pub(super) stats: DevtoolsStats,
    /// Drops not yet reported.
    pub(super) unreported: u64,
    pub(super) last_report: Option<Instant>,
}

impl State {
    pub(super) fn buffered(&self) -> usize {
        self.normal.len() + self.droppable.len()
    }

    /// The acceptance number of the oldest event neither sent nor dropped.
    pub(super) fn oldest_unsettled(&self) -> u64 {
        [
            self.inflight_first,
            self.normal.front().map(|e| e.seq),
            self.droppable.front().map(|e| e.seq),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.next_seq)
    }

    fn drop_count(&mut self, class: Class, n: u64) {
        let d = &mut self.stats.dropped;
        match class {
            Class::Normal => d.oldest += n,
            Class::HighFrequency => d.high_frequency += n,
            Class::Coalesced => d.coalesced += n,
        }
        self.unreported += n;
    }

    /// Takes up to `max` events, oldest first, from both queues.
    pub(super) fn take(&mut self, max: usize) -> Vec<Entry> {
        let mut batch = Vec::with_capacity(max.min(self.buffered()));
        while batch.len() < max {
            let from_normal = match (self.normal.front(), self.droppable.front()) {
                (Some(n), Some(d)) => n.seq < d.seq,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let entry = if from_normal {
                self.normal.pop_front()
            } else {
                self.droppable.pop_front()
            };
            batch.extend(entry);
        }
        if self.buffered() == 0 {
            self.first_at = None;
        } else {
            self.first_at = Some(Instant::now());
        }
        batch
    }

    pub(super) fn report_due(&self) -> bool {
        self.unreported > 0
            && self
                .last_report
                .is_none_or(|at| at.elapsed() >= REPORT_INTERVAL)
    }
}

pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) agent: ureq::Agent,
    pub(super) state: Mutex<State>,
    /// Wakes the sender.
    pub(super) work: Condvar,
    /// Wakes `flush` and `shutdown` callers.
    pub(super) settled: Condvar,
    /// Where drop reports go (set by `register`), and the hook's name.
    pub(super) reports: Mutex<Option<(EventCenter, String)>>,
    pub(super) thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn push(&self, event: &Arc<Event>) -> HookResult {
        let class = classify(event);
        let mut s = self.lock();
        s.stats.accepted += 1;
        if s.closing.is_some() {
            s.stats.dropped.shutdown += 1;
            s.unreported += 1;
            let detail = format!("event `{}` dropped", event.event_type);
            return Err(DevtoolsError::new(DevtoolsErrorKind::Closed, detail).into());
        }
        let seq = s.next_seq;
        s.next_seq += 1;
        let entry = Entry {
            seq,
            event: event.clone(),
            class,
        };
        let was_empty = s.buffered() == 0;
        let mut dropped = false;
        if s.buffered() >= self.config.capacity {
            dropped = true;
            if let Some(old) = s.droppable.pop_front() {
                s.drop_count(old.class, 1);
            } else if class != Class::Normal {
                // The only droppable event is the new one.
                s.drop_count(class, 1);
                drop(s);
                return Ok(());
            } else if let Some(old) = s.normal.pop_front() {
                s.drop_count(old.class, 1);
            }
        }
        if class == Class::Normal {
            s.normal.push_back(entry);
        } else {
            s.droppable.push_back(entry);
        }
        let buffered = s.buffered();
        s.stats.high_water = s.stats.high_water.max(buffered as u64);
        if was_empty {
            s.first_at = Some(Instant::now());
        }
        let wake = s.sender_waiting
            && (was_empty || buffered >= self.config.max_batch || (dropped && s.report_due()));
        if dropped && s.waiters > 0 {
            self.settled.notify_all();
        }
        drop(s);
        if wake {
            self.work.notify_one();
        }
        Ok(())
    }

    pub(super) fn stats(&self) -> DevtoolsStats {
        let s = self.lock();
        let mut stats = s.stats.clone();
        stats.pending = s.buffered() as u64 + s.inflight;
        stats
    }

    /// Emits one `event_center.events_dropped` report of the unreported
    /// drops, if any (and if due, unless `force`).
    pub(super) fn report_drops(&self, force: bool) {
        let (dropped, total) = {
            let mut s = self.lock();
            if s.unreported == 0 || (!force && !s.report_due()) {
                return;
            }
            s.last_report = Some(Instant::now());
            (std::mem::take(&mut s.unreported), s.stats.dropped)
        };
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let Some((center, name)) = reports.as_ref() else {
            return;
        };
        let (center, name) = (center.clone(), name.clone());
        drop(reports);
        center
            .emitter(REPORT_SOURCE)
            .emit(EVENTS_DROPPED)
            .level(Level::Warning)
            .message(format!("hook `{name}` dropped {dropped} events"))
            .payload(json!({
                "hook": name,
                "dropped": dropped,
                "total": {
                    "high_frequency": total.high_frequency,
                    "coalesced": total.coalesced,
                    "oldest": total.oldest,
                    "rejected": total.rejected,
                    "shutdown": total.shutdown,
                },
            }))
            .send();
    }

    pub(super) fn flush(&self, timeout: Duration) -> DevtoolsStats {
        let deadline = Instant::now() + timeout;
        {
            let mut s = self.lock();
            let target = s.next_seq;
            s.flush_target = s.flush_target.max(target);
            s.waiters += 1;
            self.work.notify_one();
            while s.oldest_unsettled() < target && !s.stopped {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                s = self
                    .settled
                    .wait_timeout(s, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            s.waiters -= 1;
        }
        self.report_drops(true);
        self.stats()
    }

    pub(super) fn shutdown(&self, timeout: Duration) -> DevtoolsStats {
        {
            let mut s = self.lock();
            if s.closing.is_none() {
                s.closing = Some(Instant::now() + timeout);
            }
        }
        self.work.notify_one();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
        self.report_drops(true);
        *self.reports.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.stats()
    }
}
