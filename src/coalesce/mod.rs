//! Agently's summary (coalescing) policy: which events are high-frequency,
//! when a buffer of them is flushed, and the summary event that stands for
//! them.
//!
//! [`Coalescer`] is a pure state machine: time is passed in, nothing spawns,
//! sleeps or locks (the wall clock is read only for the summary's Unix
//! timestamps). A coalescing hook's worker thread owns one and asks it
//! what to deliver for each event ([`Coalescer::push`]), when to wake up
//! ([`Coalescer::deadline`], [`Coalescer::on_timer`]) and what is left at
//! flush, shutdown or unregister ([`Coalescer::flush`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::event::{now_millis, Event, JsonMap};

/// The event types Agently names as high-frequency outright.
const HIGH_FREQUENCY_TYPES: [&str; 3] = [
    "triggerflow.stream_item_emitted",
    "model.response.delta",
    "response.delta",
];

/// Whether an event is high-frequency: the events a coalescing hook buffers
/// and receives as one summary. Agently's rule, exactly:
///
/// - `meta.high_frequency` is the boolean `true` (not `"true"`, not `1`), or
///   `meta.frequency` is the string `"high"`;
/// - the event type ends with `.delta` or `_delta`, or is
///   `triggerflow.stream_item_emitted`, `model.response.delta` or
///   `response.delta`;
/// - the payload is a JSON object whose `event_type` is the string `"delta"`
///   or whose `delta` is a string.
///
/// ```
/// use event_center::{is_high_frequency, Event};
/// use serde_json::json;
///
/// assert!(is_high_frequency(&Event::new("model.response.delta")));
/// assert!(is_high_frequency(&Event::new("triggerflow.stream_item_emitted")));
/// assert!(is_high_frequency(&Event::new("x.y").with_meta("frequency", "high")));
/// assert!(is_high_frequency(&Event::new("x.y").with_payload(json!({"delta": "tok"}))));
/// assert!(!is_high_frequency(&Event::new("model.completed")));
/// assert!(!is_high_frequency(&Event::new("x.y").with_meta("high_frequency", "true")));
/// ```
pub fn is_high_frequency(event: &Event) -> bool {
    let meta = &event.meta;
    if meta.get("high_frequency") == Some(&Value::Bool(true))
        || meta.get("frequency").and_then(Value::as_str) == Some("high")
    {
        return true;
    }
    let event_type = event.event_type.as_str();
    if event_type.ends_with(".delta") || event_type.ends_with("_delta") {
        return true;
    }
    if HIGH_FREQUENCY_TYPES.contains(&event_type) {
        return true;
    }
    if let Value::Object(payload) = &event.payload {
        if payload.get("event_type").and_then(Value::as_str) == Some("delta")
            || matches!(payload.get("delta"), Some(Value::String(_)))
        {
            return true;
        }
    }
    false
}

/// How a coalescing hook buffers high-frequency events and when it flushes
/// them as one summary event: Agently's `summary` delivery policy.
///
/// A buffer is flushed when it holds [`max_items`](Self::max_items) events,
/// when its first event is [`emit_interval`](Self::emit_interval) old, when
/// no event joined it for [`idle_flush`](Self::idle_flush), when an event
/// that is not high-frequency arrives (the summary is delivered first, then
/// that event), and at flush, shutdown or unregister. As in Agently, a zero
/// `max_items`, `emit_interval` or `idle_flush` means "not set", and a zero
/// `max_summary_items` means the default, 20.
///
/// The default: no `max_items`, no `emit_interval`, an `idle_flush` of 100 ms
/// (Agently's center default), 20 summary items, high-frequency events only.
///
/// ```
/// use std::time::Duration;
/// use event_center::CoalescePolicy;
///
/// let policy = CoalescePolicy::new()
///     .with_max_items(50)
///     .with_emit_interval(Duration::from_millis(250));
/// assert_eq!(policy.max_items(), Some(50));
/// assert_eq!(policy.emit_interval(), Some(Duration::from_millis(250)));
/// assert_eq!(policy.idle_flush(), Some(Duration::from_millis(100)));
/// assert_eq!(policy.max_summary_items(), 20);
/// assert!(policy.high_frequency_only());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoalescePolicy {
    max_items: Option<usize>,
    emit_interval: Option<Duration>,
    idle_flush: Option<Duration>,
    max_summary_items: usize,
    high_frequency_only: bool,
}

impl CoalescePolicy {
    const DEFAULT_IDLE_FLUSH: Duration = Duration::from_millis(100);
    const DEFAULT_MAX_SUMMARY_ITEMS: usize = 20;

    /// The default policy: flush after 100 ms without a new buffered event,
    /// keep the last 20 events in a summary, buffer high-frequency events
    /// only.
    ///
    /// ```
    /// use event_center::CoalescePolicy;
    /// assert_eq!(CoalescePolicy::new(), CoalescePolicy::default());
    /// assert_eq!(CoalescePolicy::new().max_items(), None);
    /// ```
    pub fn new() -> Self {
        CoalescePolicy {
            max_items: None,
            emit_interval: None,
            idle_flush: Some(Self::DEFAULT_IDLE_FLUSH),
            max_summary_items: Self::DEFAULT_MAX_SUMMARY_ITEMS,
            high_frequency_only: true,
        }
    }

    /// Flushes the buffer as soon as it holds this many events; `0` removes
    /// the limit (Agently's reading of a non-positive `max_items`).
    ///
    /// ```
    /// use event_center::CoalescePolicy;
    /// assert_eq!(CoalescePolicy::new().with_max_items(50).max_items(), Some(50));
    /// assert_eq!(CoalescePolicy::new().with_max_items(0).max_items(), None);
    /// ```
    pub fn with_max_items(mut self, max_items: usize) -> Self {
        self.max_items = (max_items > 0).then_some(max_items);
        self
    }

    /// Flushes the buffer once its first event is this old, checked when an
    /// event joins the buffer and by the worker's timer; zero removes the
    /// limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::CoalescePolicy;
    /// let policy = CoalescePolicy::new().with_emit_interval(Duration::from_secs(1));
    /// assert_eq!(policy.emit_interval(), Some(Duration::from_secs(1)));
    /// assert_eq!(policy.with_emit_interval(Duration::ZERO).emit_interval(), None);
    /// ```
    pub fn with_emit_interval(mut self, emit_interval: Duration) -> Self {
        self.emit_interval = (!emit_interval.is_zero()).then_some(emit_interval);
        self
    }

    /// Flushes the buffer when no event has joined it for this long (default
    /// 100 ms); zero turns the idle flush off, so a buffer waits for
    /// `max_items`, `emit_interval`, an event that is not high-frequency or
    /// an explicit flush.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::CoalescePolicy;
    /// let policy = CoalescePolicy::new().with_idle_flush(Duration::from_millis(20));
    /// assert_eq!(policy.idle_flush(), Some(Duration::from_millis(20)));
    /// assert_eq!(policy.with_idle_flush(Duration::ZERO).idle_flush(), None);
    /// ```
    pub fn with_idle_flush(mut self, idle_flush: Duration) -> Self {
        self.idle_flush = (!idle_flush.is_zero()).then_some(idle_flush);
        self
    }

    /// How many of the buffered events a summary lists in full (the last
    /// ones; default 20). `0` means the default, as in Agently.
    ///
    /// ```
    /// use event_center::CoalescePolicy;
    /// assert_eq!(CoalescePolicy::new().with_max_summary_items(5).max_summary_items(), 5);
    /// assert_eq!(CoalescePolicy::new().with_max_summary_items(0).max_summary_items(), 20);
    /// ```
    pub fn with_max_summary_items(mut self, max_summary_items: usize) -> Self {
        self.max_summary_items = if max_summary_items == 0 {
            Self::DEFAULT_MAX_SUMMARY_ITEMS
        } else {
            max_summary_items
        };
        self
    }

    /// Whether only high-frequency events (see [`is_high_frequency`]) are
    /// buffered (the default). When `false`, every event is buffered and
    /// arrives inside a summary.
    pub fn with_high_frequency_only(mut self, high_frequency_only: bool) -> Self {
        self.high_frequency_only = high_frequency_only;
        self
    }

    /// The buffer size that triggers a flush, if any.
    ///
    /// ```
    /// assert_eq!(event_center::CoalescePolicy::new().max_items(), None);
    /// ```
    pub fn max_items(&self) -> Option<usize> {
        self.max_items
    }

    /// The age of the first buffered event that triggers a flush, if any.
    ///
    /// ```
    /// assert_eq!(event_center::CoalescePolicy::new().emit_interval(), None);
    /// ```
    pub fn emit_interval(&self) -> Option<Duration> {
        self.emit_interval
    }

    /// The quiet time after the last buffered event that triggers a flush,
    /// if any.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(event_center::CoalescePolicy::new().idle_flush(), Some(Duration::from_millis(100)));
    /// ```
    pub fn idle_flush(&self) -> Option<Duration> {
        self.idle_flush
    }

    /// How many of the buffered events a summary lists in full.
    ///
    /// ```
    /// assert_eq!(event_center::CoalescePolicy::new().max_summary_items(), 20);
    /// ```
    pub fn max_summary_items(&self) -> usize {
        self.max_summary_items
    }

    /// Whether only high-frequency events are buffered.
    ///
    /// ```
    /// assert!(event_center::CoalescePolicy::new().high_frequency_only());
    /// ```
    pub fn high_frequency_only(&self) -> bool {
        self.high_frequency_only
    }
}

impl Default for CoalescePolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// One summary event and the number of original events it stands for (they
/// count as delivered, or failed, by that number).
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    /// The summary event; its `seq` is 0, to be assigned on delivery.
    pub(crate) event: Arc<Event>,
    /// How many buffered events it covers (`meta.coalesced_count`).
    pub(crate) count: usize,
}

/// What to deliver for one pushed event, in order.
#[derive(Debug)]
#[must_use = "a step may carry events to deliver"]
pub(crate) enum Step {
    /// The event joined the buffer; nothing to deliver now.
    Buffered,
    /// The event is not high-frequency and the buffer was empty: deliver it.
    Deliver(Arc<Event>),
    /// The event is not high-frequency: deliver the summary of the buffer
    /// first, then the event.
    FlushThenDeliver(Summary, Arc<Event>),
    /// The event joined the buffer and the buffer reached `max_items` or
    /// `emit_interval`: deliver the summary (which includes the event).
    Flush(Summary),
}

/// When the current buffer opened and last grew.
#[derive(Clone, Copy, Debug)]
struct Window {
    first_seen: Instant,
    last_seen: Instant,
    /// Unix milliseconds (the crate clock) when the buffer opened.
    first_seen_millis: i64,
}

/// A coalescing hook's buffer and policy. Owned by the hook's worker; pure:
/// every `Instant` is passed in, nothing spawns, sleeps or locks. The only
/// clock reads are the crate's wall clock when a buffer opens (for
/// `meta.buffer_first_seen_at`) and when a summary is built (its timestamp).
///
/// The worker loop: wait for the next event until [`deadline`](Self::deadline);
/// on a timeout call [`on_timer`](Self::on_timer); on an event call
/// `on_timer(now)` first (a deadline may have passed while the worker was
/// busy), then [`push`](Self::push); at flush, shutdown or unregister call
/// [`flush`](Self::flush).
#[derive(Debug)]
pub(crate) struct Coalescer {
    policy: CoalescePolicy,
    events: Vec<Arc<Event>>,
    window: Option<Window>,
}

impl Coalescer {
    /// An empty buffer under the given policy.
    pub(crate) fn new(policy: CoalescePolicy) -> Self {
        Coalescer {
            policy,
            events: Vec::new(),
            window: None,
        }
    }

    /// How many events are buffered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Takes one event seen at `now` and says what to deliver, in order
    /// (Agently's `_prepare_hook_delivery`): an event that is not
    /// high-frequency (under `high_frequency_only`) flushes the buffer, then
    /// is delivered itself; any other event joins the buffer, which is then
    /// flushed if it holds `max_items` events or its first event is
    /// `emit_interval` old.
    ///
    /// The idle deadline is not checked here: call [`on_timer`](Self::on_timer)
    /// first.
    pub(crate) fn push(&mut self, event: Arc<Event>, now: Instant) -> Step {
        if self.policy.high_frequency_only && !is_high_frequency(&event) {
            return match self.flush() {
                Some(summary) => Step::FlushThenDeliver(summary, event),
                None => Step::Deliver(event),
            };
        }
        let window = self.window.get_or_insert_with(|| Window {
            first_seen: now,
            last_seen: now,
            first_seen_millis: now_millis(),
        });
        window.last_seen = window.last_seen.max(now);
        let first_seen = window.first_seen;
        self.events.push(event);

        let full = self
            .policy
            .max_items
            .is_some_and(|max| self.events.len() >= max);
        let old = self
            .policy
            .emit_interval
            .is_some_and(|interval| now.saturating_duration_since(first_seen) >= interval);
        if full || old {
            if let Some(summary) = self.flush() {
                return Step::Flush(summary);
            }
        }
        Step::Buffered
    }

    /// When the worker must wake to flush: the earlier of the first buffered
    /// event's time plus `emit_interval` and the last one's plus
    /// `idle_flush`. `None` when the buffer is empty or neither is set (a
    /// deadline too far to represent counts as none).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let window = self.window.as_ref()?;
        let interval = self
            .policy
            .emit_interval
            .and_then(|interval| window.first_seen.checked_add(interval));
        let idle = self
            .policy
            .idle_flush
            .and_then(|idle| window.last_seen.checked_add(idle));
        match (interval, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Flushes the buffer if its [`deadline`](Self::deadline) is at or before
    /// `now`.
    pub(crate) fn on_timer(&mut self, now: Instant) -> Option<Summary> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.flush(),
            _ => None,
        }
    }

    /// Flushes the buffer unconditionally (flush, shutdown, unregister);
    /// `None` when it is empty.
    pub(crate) fn flush(&mut self) -> Option<Summary> {
        let window = self.window.take()?;
        if self.events.is_empty() {
            return None;
        }
        let summary = build_summary(&self.events, &window, self.policy.max_summary_items);
        self.events.clear();
        Some(summary)
    }
}

/// Agently's `_build_summary_event`, field for field.
///
/// `buffer_first_seen_at` and `buffer_last_seen_at` are Unix milliseconds
/// (Agently writes monotonic seconds there, which mean nothing outside its
/// process): the crate clock read when the buffer opened, plus the monotonic
/// time elapsed since.
fn build_summary(events: &[Arc<Event>], window: &Window, max_summary_items: usize) -> Summary {
    let first = &events[0];
    let last = &events[events.len() - 1];
    let count = events.len();
    let selected = &events[count.saturating_sub(max_summary_items.max(1))..];
    let last_seen_millis = window.first_seen_millis.saturating_add(
        i64::try_from(
            window
                .last_seen
                .saturating_duration_since(window.first_seen)
                .as_millis(),
        )
        .unwrap_or(i64::MAX),
    );

    let mut meta = JsonMap::clone(&last.meta);
    meta.insert("coalesced".into(), Value::Bool(true));
    meta.insert("coalesced_count".into(), count.into());
    meta.insert(
        "coalesced_event_type".into(),
        last.event_type.as_str().into(),
    );
    meta.insert("first_event_id".into(), first.event_id.to_string().into());
    meta.insert("last_event_id".into(), last.event_id.to_string().into());
    meta.insert("first_event_at".into(), first.timestamp.into());
    meta.insert("last_event_at".into(), last.timestamp.into());
    meta.insert(
        "buffer_first_seen_at".into(),
        window.first_seen_millis.into(),
    );
    meta.insert("buffer_last_seen_at".into(), last_seen_millis.into());

    let mut summary = Event::new(last.event_type.clone());
    summary.source = last.source.clone();
    summary.level = last.level;
    summary.message = Some(format!("{count} coalesced runtime events").into());
    summary.payload = json!({
        "count": count,
        "events": selected.iter().map(|event| compact(event)).collect::<Vec<_>>(),
        "last_payload": last.payload,
        "truncated": selected.len() < count,
    });
    summary.error = last.error.clone();
    summary.run = last.run.clone();
    summary.meta = Arc::new(meta);
    Summary {
        event: Arc::new(summary),
        count,
    }
}

/// Agently's `_compact_event_payload`: one buffered event as listed in a
/// summary's `payload.events`.
fn compact(event: &Event) -> Value {
    json!({
        "event_id": event.event_id.to_string(),
        "event_type": event.event_type.as_str(),
        "source": event.source.as_str(),
        "level": event.level.as_str(),
        "message": event.message.as_deref(),
        "payload": event.payload,
        "run": event
            .run
            .as_deref()
            .map_or(Value::Null, |run| serde_json::to_value(run).unwrap_or(Value::Null)),
        "meta": *event.meta,
        "timestamp": event.timestamp,
    })
}

#[cfg(test)]
mod tests;
