//! The sender thread: it takes batches from the buffer, posts them, splits
//! the ones the server refuses and retries with backoff while it fails.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::buffer::{Entry, Shared, State, REPORT_INTERVAL};

/// What a POST came to.
enum Outcome {
    Sent,
    /// The server refused the body: split it, or reject a single event.
    Refused(String),
    /// Down, overloaded, or misconfigured: keep the events and retry.
    Retry(String),
}

/// The sender thread.
pub(super) struct Sender {
    pub(super) shared: Arc<Shared>,
    pub(super) body: Vec<u8>,
}

impl Sender {
    pub(super) fn run(mut self) {
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
