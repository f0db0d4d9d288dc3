//! Forwards events to an Agently DevTools server (feature `devtools-client`).
//!
//! The hook only queues: it puts the event into the forwarder's own bounded
//! buffer, which a sender thread empties in batches (`POST
//! {server}/observation/ingest`), retrying with a capped exponential backoff
//! while the server is down. When the buffer is full, high-frequency and
//! coalesced events make room first, then the oldest; every drop is counted
//! and reported as an `event_center.events_dropped` event.

use std::collections::VecDeque;
use std::error::Error as StdError;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::center::{EventCenter, RegisterError};
use crate::coalesce::is_high_frequency;
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::event::{Event, Level};
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;

/// The ingest path posted to when the URL given is the server's base URL.
const INGEST_PATH: &str = "/observation/ingest";
/// The source of the forwarder's drop reports.
const REPORT_SOURCE: &str = "DevtoolsForwarder";
/// The event type of drop reports (the center's own type for them).
const EVENTS_DROPPED: &str = "event_center.events_dropped";
/// At most one drop report per interval (flush and shutdown report at once).
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// A capped exponential backoff: the first retry waits `initial`, each next
/// one twice as long, never more than `max`. The default: 100 ms up to 5 s.
///
/// ```
/// use std::time::Duration;
/// use event_center::DevtoolsBackoff;
///
/// let backoff = DevtoolsBackoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(backoff.delay(0), Duration::from_millis(100));
/// assert_eq!(backoff.delay(2), Duration::from_millis(400));
/// assert_eq!(backoff.delay(10), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevtoolsBackoff {
    initial: Duration,
    max: Duration,
}

impl Default for DevtoolsBackoff {
    fn default() -> Self {
        DevtoolsBackoff::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl DevtoolsBackoff {
    /// Waits `initial` before the first retry, doubling up to `max` (a `max`
    /// below `initial` is taken as `initial`; a zero `initial` as 1 ms).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = event_center::DevtoolsBackoff::new(Duration::ZERO, Duration::ZERO);
    /// assert_eq!(b.delay(5), Duration::from_millis(1));
    /// ```
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        DevtoolsBackoff {
            initial,
            max: max.max(initial),
        }
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    ///
    /// ```
    /// let b = event_center::DevtoolsBackoff::default();
    /// assert_eq!(b.delay(0), std::time::Duration::from_millis(100));
    /// assert_eq!(b.delay(100), std::time::Duration::from_secs(5));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Events the forwarder accepted and did not send, by reason.
///
/// ```
/// let dropped = event_center::DevtoolsDropped::default();
/// assert_eq!(dropped.total(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevtoolsDropped {
    /// High-frequency events (see [`is_high_frequency`](crate::is_high_frequency))
    /// that made room in a full buffer: they go first.
    pub high_frequency: u64,
    /// Coalesced summary events (`meta.coalesced`) that made room in a full
    /// buffer, with the high-frequency ones.
    pub coalesced: u64,
    /// The oldest buffered events, when a full buffer held nothing
    /// high-frequency or coalesced.
    pub oldest: u64,
    /// Events the server refused one by one (`400`, `413` or `422` for a
    /// batch of that event alone), or that could not be serialized.
    pub rejected: u64,
    /// Events still unsent when a shutdown's timeout came, or offered after
    /// the shutdown.
    pub shutdown: u64,
}

impl DevtoolsDropped {
    /// All drops.
    ///
    /// ```
    /// let mut dropped = event_center::DevtoolsDropped::default();
    /// dropped.oldest = 2;
    /// dropped.high_frequency = 3;
    /// assert_eq!(dropped.total(), 5);
    /// ```
    pub fn total(&self) -> u64 {
        self.high_frequency + self.coalesced + self.oldest + self.rejected + self.shutdown
    }
}

/// A forwarder's numbers. Every accepted event ends as sent or dropped and
/// is pending until then: `accepted == sent + dropped.total() + pending`.
///
/// ```
/// use std::time::Duration;
/// use event_center::DevtoolsForwarder;
///
/// let forwarder = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap();
/// let stats = forwarder.stats();
/// assert_eq!((stats.accepted, stats.sent, stats.pending), (0, 0, 0));
/// assert!(stats.last_error.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevtoolsStats {
    /// Events the hook received.
    pub accepted: u64,
    /// Events the server acknowledged.
    pub sent: u64,
    /// Events dropped, by reason.
    pub dropped: DevtoolsDropped,
    /// Events buffered or being sent.
    pub pending: u64,
    /// Requests the server acknowledged.
    pub requests: u64,
    /// Failed attempts that were retried after a backoff (the events kept).
    pub retries: u64,
    /// The most buffered events at once.
    pub high_water: u64,
    /// The last failure: the request, the status or transport error, and
    /// the server's answer.
    pub last_error: Option<String>,
}

/// What was wrong with a forwarder's configuration.
///
/// ```
/// use event_center::DevtoolsErrorKind;
/// assert_ne!(DevtoolsErrorKind::InvalidUrl, DevtoolsErrorKind::InvalidApiKey);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DevtoolsErrorKind {
    /// The URL is not an `http://` or `https://` URL with a host.
    InvalidUrl,
    /// The API key cannot be sent in a header (a control character, or
    /// empty).
    InvalidApiKey,
    /// The sender thread could not be started.
    ThreadUnavailable,
}

/// An error building a [`DevtoolsForwarder`]: what was wrong and what to do.
///
/// ```
/// use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
///
/// let err = DevtoolsForwarder::builder("127.0.0.1:15596").build().unwrap_err();
/// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
/// assert!(err.to_string().contains("127.0.0.1:15596"));
/// ```
#[derive(Clone, Debug)]
pub struct DevtoolsError {
    kind: DevtoolsErrorKind,
    detail: String,
}

impl DevtoolsError {
    /// What was wrong.
    ///
    /// ```
    /// # use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
    /// let err = DevtoolsForwarder::builder("http://h").with_api_key("a\nb").build().unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidApiKey);
    /// ```
    pub fn kind(&self) -> &DevtoolsErrorKind {
        &self.kind
    }
}

impl fmt::Display for DevtoolsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DevtoolsErrorKind::InvalidUrl => write!(
                f,
                "DevTools URL `{}` is not valid; give the server's base URL \
                 (`http://127.0.0.1:15596`) or its ingest URL (`.../observation/ingest`)",
                self.detail
            ),
            DevtoolsErrorKind::InvalidApiKey => write!(
                f,
                "DevTools API key is not valid ({}); use the key the server was started with \
                 (`agently-devtools start --api-key KEY`)",
                self.detail
            ),
            DevtoolsErrorKind::ThreadUnavailable => write!(
                f,
                "DevTools forwarder could not start its sender thread ({}); \
                 the process is out of threads or memory",
                self.detail
            ),
        }
    }
}

impl StdError for DevtoolsError {}

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
struct Entry {
    seq: u64,
    event: Arc<Event>,
    class: Class,
}

/// The buffer, the counters and the sender's state, under one lock.
#[derive(Default)]
struct State {
    /// Events that go only when nothing droppable is left (oldest first).
    normal: VecDeque<Entry>,
    /// High-frequency and coalesced events: dropped first, oldest first.
    droppable: VecDeque<Entry>,
    /// When the buffer last became non-empty.
    first_at: Option<Instant>,
    next_seq: u64,
    /// The acceptance number of the first unsettled event being sent.
    inflight_first: Option<u64>,
    inflight: u64,
    /// Send at once while events accepted before this number are buffered.
    flush_target: u64,
    /// Set by shutdown: its deadline.
    closing: Option<Instant>,
    /// The sender thread has ended.
    stopped: bool,
    /// Callers of `flush` or `shutdown` waiting.
    waiters: usize,
    /// The sender is asleep on `work`.
    sender_waiting: bool,
    stats: DevtoolsStats,
    /// Drops not yet reported.
    unreported: u64,
    last_report: Option<Instant>,
}

impl State {
    fn buffered(&self) -> usize {
        self.normal.len() + self.droppable.len()
    }

    /// The acceptance number of the oldest event neither sent nor dropped.
    fn oldest_unsettled(&self) -> u64 {
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
    fn take(&mut self, max: usize) -> Vec<Entry> {
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

    fn report_due(&self) -> bool {
        self.unreported > 0
            && self
                .last_report
                .is_none_or(|at| at.elapsed() >= REPORT_INTERVAL)
    }
}

/// The configuration, fixed at `build()`.
struct Config {
    endpoint: String,
    authorization: Option<String>,
    /// `{"app_id":..,"group_id":..,"environment":..,"events":[`
    body_prefix: Vec<u8>,
    max_batch: usize,
    max_delay: Duration,
    capacity: usize,
    backoff: DevtoolsBackoff,
    timeout: Duration,
    close_timeout: Duration,
}

struct Shared {
    config: Config,
    agent: ureq::Agent,
    state: Mutex<State>,
    /// Wakes the sender.
    work: Condvar,
    /// Wakes `flush` and `shutdown` callers.
    settled: Condvar,
    /// Where drop reports go (set by `register`), and the hook's name.
    reports: Mutex<Option<(EventCenter, String)>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, event: &Arc<Event>) -> HookResult {
        let class = classify(event);
        let mut s = self.lock();
        s.stats.accepted += 1;
        if s.closing.is_some() {
            s.stats.dropped.shutdown += 1;
            s.unreported += 1;
            return Err("the DevTools forwarder is shut down: event dropped".into());
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

    fn stats(&self) -> DevtoolsStats {
        let s = self.lock();
        let mut stats = s.stats.clone();
        stats.pending = s.buffered() as u64 + s.inflight;
        stats
    }

    /// Emits one `event_center.events_dropped` report of the unreported
    /// drops, if any (and if due, unless `force`).
    fn report_drops(&self, force: bool) {
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

    fn flush(&self, timeout: Duration) -> DevtoolsStats {
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

    fn shutdown(&self, timeout: Duration) -> DevtoolsStats {
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

/// What a POST came to.
enum Outcome {
    Sent,
    /// The server refused the body: split it, or reject a single event.
    Refused(String),
    /// Down, overloaded, or misconfigured: keep the events and retry.
    Retry(String),
}

/// The sender thread.
struct Sender {
    shared: Arc<Shared>,
    body: Vec<u8>,
}

impl Sender {
    fn run(mut self) {
        loop {
            let Some(mut batch) = self.next_batch() else {
                return;
            };
            if !self.deliver(&mut batch) {
                self.abandon();
                return;
            }
        }
    }

    /// Waits until a batch is due and takes it; `None` once shut down and
    /// drained.
    fn next_batch(&mut self) -> Option<Vec<Option<Entry>>> {
        let config = &self.shared.config;
        loop {
            self.shared.report_drops(false);
            let mut s = self.shared.lock();
            loop {
                let buffered = s.buffered();
                let flushing = s.oldest_unsettled() < s.flush_target || s.closing.is_some();
                let mut wait = None;
                if buffered > 0 {
                    let age = s.first_at.map_or(config.max_delay, |at| at.elapsed());
                    if buffered >= config.max_batch || flushing || age >= config.max_delay {
                        let batch = s.take(config.max_batch);
                        s.inflight_first = batch.first().map(|e| e.seq);
                        s.inflight = batch.len() as u64;
                        return Some(batch.into_iter().map(Some).collect());
                    }
                    wait = Some(config.max_delay - age);
                } else if s.closing.is_some() {
                    s.stopped = true;
                    self.shared.settled.notify_all();
                    return None;
                }
                if s.unreported > 0 {
                    let due = s.last_report.map_or(Duration::ZERO, |at| {
                        REPORT_INTERVAL.saturating_sub(at.elapsed())
                    });
                    if due.is_zero() {
                        break; // report, then look again
                    }
                    wait = Some(wait.map_or(due, |w: Duration| w.min(due)));
                }
                s.sender_waiting = true;
                s = match wait {
                    Some(wait) => {
                        self.shared
                            .work
                            .wait_timeout(s, wait)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                    None => self.shared.work.wait(s).unwrap_or_else(|p| p.into_inner()),
                };
                s.sender_waiting = false;
            }
        }
    }

    /// Sends `batch`, splitting it when the server refuses it and retrying
    /// with backoff while the server fails. `false` when a shutdown's
    /// deadline came first (what is left is still in `batch`).
    fn deliver(&mut self, batch: &mut [Option<Entry>]) -> bool {
        let mut parts: VecDeque<Range<usize>> = VecDeque::new();
        parts.push_back(0..batch.len());
        let mut attempt: u32 = 0;
        while let Some(range) = parts.front().cloned() {
            let count = self.serialize(&mut batch[range.clone()]);
            let outcome = if count == 0 {
                Outcome::Sent
            } else {
                match self.post() {
                    Some(outcome) => outcome,
                    None => return false,
                }
            };
            match outcome {
                Outcome::Sent => {
                    attempt = 0;
                    parts.pop_front();
                    let mut s = self.shared.lock();
                    if count > 0 {
                        s.stats.sent += count;
                        s.stats.requests += 1;
                    }
                    self.settle(&mut s, batch, &range);
                }
                Outcome::Refused(error) if count > 1 => {
                    parts.pop_front();
                    let mid = range.start + range.len() / 2;
                    parts.push_front(mid..range.end);
                    parts.push_front(range.start..mid);
                    self.shared.lock().stats.last_error = Some(error);
                }
                Outcome::Refused(error) => {
                    attempt = 0;
                    parts.pop_front();
                    let mut s = self.shared.lock();
                    s.stats.dropped.rejected += count;
                    s.unreported += count;
                    s.stats.last_error = Some(error);
                    self.settle(&mut s, batch, &range);
                }
                Outcome::Retry(error) => {
                    {
                        let mut s = self.shared.lock();
                        s.stats.retries += 1;
                        s.stats.last_error = Some(error);
                    }
                    if !self.sleep(self.shared.config.backoff.delay(attempt)) {
                        return false;
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        }
        true
    }

    /// Marks `range` of `batch` as settled (sent or rejected).
    fn settle(&self, s: &mut State, batch: &mut [Option<Entry>], range: &Range<usize>) {
        let mut settled = 0;
        for entry in &mut batch[range.clone()] {
            settled += u64::from(entry.take().is_some());
        }
        s.inflight = s.inflight.saturating_sub(settled);
        s.inflight_first = batch.iter().flatten().map(|e| e.seq).next();
        if s.waiters > 0 {
            self.shared.settled.notify_all();
        }
    }

    /// Writes the request body of `entries` into `self.body`; returns how
    /// many events it holds. An event that cannot be serialized is counted
    /// as rejected and left out, the others go.
    fn serialize(&mut self, entries: &mut [Option<Entry>]) -> u64 {
        let body = &mut self.body;
        body.clear();
        body.extend_from_slice(&self.shared.config.body_prefix);
        let mut count = 0;
        let mut bad = 0;
        for slot in entries.iter_mut() {
            let Some(entry) = slot else { continue };
            let mark = body.len();
            if count > 0 {
                body.push(b',');
            }
            if serde_json::to_writer(&mut *body, &*entry.event).is_err() {
                body.truncate(mark);
                *slot = None;
                bad += 1;
                continue;
            }
            count += 1;
        }
        body.extend_from_slice(b"]}");
        if bad > 0 {
            let mut s = self.shared.lock();
            s.stats.dropped.rejected += bad;
            s.inflight = s.inflight.saturating_sub(bad);
            s.unreported += bad;
            s.stats.last_error = Some(format!("{bad} events could not be serialized to JSON"));
        }
        count
    }

    /// Posts `self.body`; `None` when a shutdown's deadline has passed.
    fn post(&self) -> Option<Outcome> {
        let config = &self.shared.config;
        let mut timeout = config.timeout;
        if let Some(deadline) = self.shared.lock().closing {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            timeout = timeout.min(left);
        }
        let mut request = self
            .shared
            .agent
            .post(&config.endpoint)
            .timeout(timeout)
            .set("Content-Type", "application/json");
        if let Some(authorization) = &config.authorization {
            request = request.set("Authorization", authorization);
        }
        let label = format!("POST {}", config.endpoint);
        Some(match request.send_bytes(&self.body) {
            Ok(response) => {
                // Read the answer so the connection is reused.
                let _ = response.into_string();
                Outcome::Sent
            }
            Err(ureq::Error::Status(status, response)) => {
                let text: String = response
                    .into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                let error = format!("{label}: HTTP {status}: {text}");
                match status {
                    400 | 413 | 422 => Outcome::Refused(error),
                    _ => Outcome::Retry(error),
                }
            }
            Err(ureq::Error::Transport(transport)) => {
                Outcome::Retry(format!("{label}: no answer: {transport}"))
            }
        })
    }

    /// Sleeps before a retry; `false` when a shutdown's deadline comes
    /// first.
    fn sleep(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        let mut s = self.shared.lock();
        loop {
            let now = Instant::now();
            if let Some(deadline) = s.closing {
                if now >= deadline {
                    return false;
                }
            }
            if now >= until {
                return true;
            }
            let mut wait = until - now;
            if let Some(deadline) = s.closing {
                wait = wait.min(deadline - now);
            }
            s = self
                .shared
                .work
                .wait_timeout(s, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The shutdown's deadline came: what is left counts as dropped.
    fn abandon(&self) {
        let mut s = self.shared.lock();
        let left = s.inflight + s.buffered() as u64;
        s.normal.clear();
        s.droppable.clear();
        s.first_at = None;
        s.inflight = 0;
        s.inflight_first = None;
        s.stats.dropped.shutdown += left;
        s.unreported += left;
        s.stopped = true;
        self.shared.settled.notify_all();
    }
}

/// Builds a [`DevtoolsForwarder`]; see [`DevtoolsForwarder::builder`].
#[derive(Clone, Debug)]
pub struct DevtoolsForwarderBuilder {
    url: String,
    app_id: Option<String>,
    group_id: Option<String>,
    environment: Option<String>,
    api_key: Option<String>,
    max_batch: usize,
    max_delay: Duration,
    capacity: usize,
    backoff: DevtoolsBackoff,
    timeout: Duration,
    close_timeout: Duration,
}

impl DevtoolsForwarderBuilder {
    /// The `app_id` of every batch (the server files events without one
    /// under `"default"`).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://127.0.0.1:15596")
    ///     .with_app_id("travel-agent")
    ///     .build()
    ///     .unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"app_id\":\"travel-agent\""));
    /// ```
    pub fn with_app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The `group_id` of every batch (a team, a tenant, an experiment).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_group_id("g1").build().unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"group_id\":\"g1\""));
    /// ```
    pub fn with_group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// The `environment` of every batch (`dev`, `staging`, `prod`).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_environment("dev").build().unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"environment\":\"dev\""));
    /// ```
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Sends `Authorization: Bearer <api_key>` (a server started with
    /// `--api-key` answers `401` without it).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_api_key("secret").build().unwrap();
    /// assert!(!format!("{f:?}").contains("secret"));
    /// ```
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// A batch is sent when it holds `max_events` events or when its first
    /// event has waited `max_delay` (default: 256 events, 200 ms). A zero
    /// `max_events` is taken as 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_batch(500, Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_batch(mut self, max_events: usize, max_delay: Duration) -> Self {
        self.max_batch = max_events.max(1);
        self.max_delay = max_delay;
        self
    }

    /// How many events the forwarder buffers while the server is slow or
    /// down (default 65,536; 0 is taken as 1). When it is full,
    /// high-frequency and coalesced events make room first, then the
    /// oldest. At most this many events, plus the batch being sent, are
    /// held.
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_buffer(10_000).build().unwrap();
    /// # drop(f);
    /// ```
    pub fn with_buffer(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long to wait between attempts while the server fails (default
    /// [`DevtoolsBackoff::default`]). A batch is retried until it is sent (or until
    /// a shutdown's timeout), keeping its events; the buffer bounds what
    /// waits behind it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{DevtoolsBackoff, DevtoolsForwarder};
    /// let f = DevtoolsForwarder::builder("http://h")
    ///     .with_retry(DevtoolsBackoff::new(Duration::from_millis(50), Duration::from_secs(2)))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_retry(mut self, backoff: DevtoolsBackoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The timeout of each request (default 10 s).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_timeout(std::time::Duration::from_secs(2))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long dropping the last handle (or a [`DevtoolsGuard`]) waits for
    /// the buffered events to be sent (default 5 s).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_close_timeout(std::time::Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Checks the URL and the key and starts the sender thread.
    ///
    /// The URL is the server's base URL (`http://127.0.0.1:15596`, events go
    /// to `/observation/ingest` under it) or, when its path ends with
    /// `/ingest`, the ingest URL itself (the one `agently-devtools start`
    /// prints).
    ///
    /// ```
    /// use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
    /// assert!(DevtoolsForwarder::builder("http://127.0.0.1:15596").build().is_ok());
    /// assert!(DevtoolsForwarder::builder("https://devtools.example/observation/ingest").build().is_ok());
    /// let err = DevtoolsForwarder::builder("ftp://h").build().unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
    /// ```
    pub fn build(self) -> Result<DevtoolsForwarder, DevtoolsError> {
        let error = |kind, detail: String| DevtoolsError { kind, detail };
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"));
        let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', ':', '?', '#']));
        if !host_ok {
            return Err(error(DevtoolsErrorKind::InvalidUrl, self.url.clone()));
        }
        let base = url.trim_end_matches('/');
        let endpoint = if base.ends_with("/ingest") {
            base.to_owned()
        } else {
            format!("{base}{INGEST_PATH}")
        };
        let agent = ureq::AgentBuilder::new()
            .user_agent(concat!("event-center/", env!("CARGO_PKG_VERSION")))
            .build();
        if let Err(e) = agent.post(&endpoint).request_url() {
            return Err(error(
                DevtoolsErrorKind::InvalidUrl,
                format!("{}: {e}", self.url),
            ));
        }
        let authorization = match self.api_key {
            None => None,
            Some(key) => {
                if key.is_empty() {
                    return Err(error(DevtoolsErrorKind::InvalidApiKey, "empty".into()));
                }
                if key.chars().any(|c| c.is_control()) {
                    return Err(error(
                        DevtoolsErrorKind::InvalidApiKey,
                        "it holds a control character".into(),
                    ));
                }
                Some(format!("Bearer {key}"))
            }
        };
        let mut body_prefix = serde_json::to_vec(&json!({
            "app_id": self.app_id,
            "group_id": self.group_id,
            "environment": self.environment,
        }))
        .unwrap_or_else(|_| b"{}".to_vec());
        body_prefix.pop(); // the closing brace
        body_prefix.extend_from_slice(br#","events":["#);
        let shared = Arc::new(Shared {
            config: Config {
                endpoint,
                authorization,
                body_prefix,
                max_batch: self.max_batch,
                max_delay: self.max_delay,
                capacity: self.capacity,
                backoff: self.backoff,
                timeout: self.timeout,
                close_timeout: self.close_timeout,
            },
            agent,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            settled: Condvar::new(),
            reports: Mutex::new(None),
            thread: Mutex::new(None),
        });
        let sender = Sender {
            shared: shared.clone(),
            body: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("devtools-forwarder".into())
            .spawn(move || sender.run())
            .map_err(|e| error(DevtoolsErrorKind::ThreadUnavailable, e.to_string()))?;
        *shared.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(DevtoolsForwarder {
            inner: Arc::new(Inner { shared }),
        })
    }
}

/// Shuts the sender down when the last handle goes.
struct Inner {
    shared: Arc<Shared>,
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
    inner: Arc<Inner>,
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

/// A [`DevtoolsForwarder`] registered on a center (see
/// [`DevtoolsForwarder::register`]). Dropping it drains the center's queue
/// into the forwarder, unregisters it and shuts it down within the
/// forwarder's close timeout; [`shutdown`](Self::shutdown) does the same
/// with a timeout of your choice and returns the numbers.
///
/// ```
/// use std::time::Duration;
/// use event_center::{DevtoolsForwarder, EventCenter};
///
/// let center = EventCenter::new();
/// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9")
///     .build()
///     .unwrap()
///     .register(&center, "devtools")
///     .unwrap();
/// center.emitter("Agent").emit("model.requesting").send();
/// let stats = guard.shutdown(Duration::from_millis(100)); // nothing listens there
/// assert_eq!((stats.accepted, stats.dropped.shutdown), (1, 1));
/// assert!(center.hook_names().is_empty());
/// ```
pub struct DevtoolsGuard {
    center: EventCenter,
    name: String,
    forwarder: Option<DevtoolsForwarder>,
}

impl fmt::Debug for DevtoolsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevtoolsGuard")
            .field("name", &self.name)
            .field("forwarder", &self.forwarder)
            .finish()
    }
}

impl DevtoolsGuard {
    /// The registered forwarder.
    ///
    /// ```
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// assert_eq!(guard.forwarder().stats().accepted, 0);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// ```
    pub fn forwarder(&self) -> &DevtoolsForwarder {
        self.forwarder
            .as_ref()
            .expect("the forwarder is only taken by shutdown or drop")
    }

    /// The forwarder's numbers (see [`DevtoolsForwarder::stats`]).
    ///
    /// ```
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// assert_eq!(guard.stats().sent, 0);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// ```
    pub fn stats(&self) -> DevtoolsStats {
        self.forwarder().stats()
    }

    /// Drains the center's queues (so every event emitted before the call
    /// reaches the forwarder), then flushes the forwarder, all within
    /// `timeout`. `pending` counts what was left, in the center's queue or
    /// the forwarder's buffer.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// center.emitter("A").emit("a.b").send();
    /// assert_eq!(guard.flush(Duration::from_millis(50)).pending, 1);
    /// # guard.shutdown(Duration::ZERO);
    /// ```
    pub fn flush(&self, timeout: Duration) -> DevtoolsStats {
        let deadline = Instant::now() + timeout;
        let report = self.center.flush(timeout);
        let queued = report
            .hooks
            .iter()
            .find(|h| h.name == self.name && h.registered)
            .map_or(0, |h| h.pending);
        let mut stats = self
            .forwarder()
            .flush(deadline.saturating_duration_since(Instant::now()));
        stats.pending += queued;
        stats
    }

    /// Drains the center's queue into the forwarder, unregisters it, and
    /// shuts it down (see [`DevtoolsForwarder::shutdown`]), all within
    /// `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use event_center::{DevtoolsForwarder, EventCenter};
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").build().unwrap().register(&center, "dt").unwrap();
    /// let stats = guard.shutdown(Duration::from_millis(50));
    /// assert_eq!(stats.accepted, 0);
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> DevtoolsStats {
        self.close(timeout)
    }

    fn close(&mut self, timeout: Duration) -> DevtoolsStats {
        let Some(forwarder) = self.forwarder.take() else {
            return DevtoolsStats::default();
        };
        let deadline = Instant::now() + timeout;
        self.center.flush(timeout);
        self.center.unregister_hook(&self.name);
        forwarder.shutdown(deadline.saturating_duration_since(Instant::now()))
    }
}

impl Drop for DevtoolsGuard {
    fn drop(&mut self) {
        if let Some(forwarder) = &self.forwarder {
            let timeout = forwarder.inner.shared.config.close_timeout;
            self.close(timeout);
        }
    }
}
