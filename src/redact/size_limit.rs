//! The per-event size limit: truncate oversized strings with a visible
//! marker, and flag the event.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

use crate::event::{Event, JsonMap};
use crate::text::SharedStr;

/// The per-event size limit: no string value longer than a number of bytes.
///
/// A longer string is cut at a character boundary and ends with a visible
/// marker, `…[truncated N bytes]`, where `N` is how many bytes of the
/// original were dropped; the kept prefix and the marker together fit in the
/// limit, so applying the same limit again changes nothing. The event is then
/// flagged in its meta: `truncated: true`, and `truncated_bytes`, the total
/// number of bytes dropped (added to any `truncated_bytes` already there).
///
/// The limit applies to the message, the error's message and traceback, and
/// every string value at any depth in the `payload`, the `meta`, the run's
/// meta, the error's `details` and the unknown top-level fields (`extra`).
/// Object keys and identifiers (type, source, ids) are left whole.
///
/// ```
/// use event_center::{Event, SizeLimit};
/// use serde_json::json;
///
/// let mut event = Event::new("model.completed")
///     .with_payload(json!({"text": "x".repeat(1000), "n": 1}));
/// assert!(SizeLimit::new(100).apply(&mut event));
///
/// let text = event.payload["text"].as_str().unwrap();
/// assert!(text.len() <= 100);
/// assert!(text.starts_with("xxx"));
/// assert!(text.ends_with("…[truncated 925 bytes]"));
/// assert_eq!(event.meta["truncated"], true);
/// assert_eq!(event.meta["truncated_bytes"], 925);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SizeLimit {
    max_bytes: usize,
}

impl SizeLimit {
    /// The smallest limit: room for the longest marker and some text.
    pub const MIN_BYTES: usize = 64;

    /// A limit of `max_bytes` bytes per string value. Limits below
    /// [`MIN_BYTES`](Self::MIN_BYTES) are raised to it, so a truncated
    /// string always has room for its marker.
    ///
    /// ```
    /// use event_center::SizeLimit;
    /// assert_eq!(SizeLimit::new(16 * 1024).max_bytes(), 16 * 1024);
    /// assert_eq!(SizeLimit::new(0).max_bytes(), SizeLimit::MIN_BYTES);
    /// ```
    pub fn new(max_bytes: usize) -> Self {
        SizeLimit {
            max_bytes: max_bytes.max(Self::MIN_BYTES),
        }
    }

    /// The largest string value, in bytes, that an event keeps whole.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Truncates every string longer than the limit and flags the event's
    /// meta; returns whether anything changed.
    ///
    /// When every string fits, this only walks the event: no allocation, and
    /// `meta` and `run` stay shared. Otherwise the parts that change are
    /// cloned first (clone-on-write); `meta` always is, to take the flags.
    ///
    /// ```
    /// use event_center::{Event, SizeLimit};
    ///
    /// let limit = SizeLimit::new(64);
    /// let mut small = Event::new("x.y").with_message("short");
    /// assert!(!limit.apply(&mut small));
    /// assert!(small.meta.get("truncated").is_none());
    ///
    /// let mut big = Event::new("x.y").with_message("é".repeat(100));
    /// assert!(limit.apply(&mut big));
    /// let message = big.message.as_deref().unwrap();
    /// assert!(message.len() <= 64 && message.ends_with("bytes]"));
    /// assert!(!limit.apply(&mut big), "a second pass finds everything within the limit");
    /// ```
    pub fn apply(&self, event: &mut Event) -> bool {
        let max = self.max_bytes;
        let mut dropped = cut_value(max, &mut event.payload);
        if let Some(message) = &event.message {
            if let Some(cut) = cut_str(max, message) {
                dropped += cut.dropped;
                event.message = Some(SharedStr::from(cut.text));
            }
        }
        if let Some(error) = event.error.as_deref_mut() {
            dropped += cut_string(max, &mut error.message);
            if let Some(traceback) = &mut error.traceback {
                dropped += cut_string(max, traceback);
            }
            dropped += cut_map(max, &mut error.details);
        }
        dropped += cut_map(max, &mut event.extra);
        if let Some(run) = &mut event.run {
            if map_over(max, &run.meta) {
                dropped += cut_map(max, &mut Arc::make_mut(run).meta);
            }
        }
        if dropped == 0 && !map_over(max, &event.meta) {
            return false;
        }
        let meta = Arc::make_mut(&mut event.meta);
        dropped += cut_map(max, meta);
        let before = meta
            .get("truncated_bytes")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        meta.insert("truncated".to_owned(), Value::Bool(true));
        meta.insert(
            "truncated_bytes".to_owned(),
            Value::from(before.saturating_add(dropped)),
        );
        true
    }
}

/// A string cut to fit.
struct Cut {
    text: String,
    dropped: u64,
}

/// Where to cut `text` to fit `max` bytes with its marker, and how many bytes
/// that drops; `None` when it fits.
pub(super) fn cut_point(max: usize, text: &str) -> Option<(usize, usize)> {
    if text.len() <= max {
        return None;
    }
    // The marker for dropping at most `text.len()` bytes is at least as long
    // as the real one, so prefix + marker fits.
    let mut keep = max.saturating_sub(marker_len(text.len()));
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    Some((keep, text.len() - keep))
}

pub(super) fn marker_len(dropped: usize) -> usize {
    let digits = dropped.checked_ilog10().map_or(1, |d| d as usize + 1);
    "…[truncated ".len() + digits + " bytes]".len()
}

fn push_marker(text: &mut String, dropped: usize) {
    // Writing to a String cannot fail.
    let _ = write!(text, "…[truncated {dropped} bytes]");
}

fn cut_str(max: usize, text: &str) -> Option<Cut> {
    let (keep, dropped) = cut_point(max, text)?;
    let mut cut = String::with_capacity(max);
    cut.push_str(&text[..keep]);
    push_marker(&mut cut, dropped);
    Some(Cut {
        text: cut,
        dropped: dropped as u64,
    })
}

/// Cuts `text` in place (its buffer is already big enough); returns the bytes
/// dropped.
fn cut_string(max: usize, text: &mut String) -> u64 {
    match cut_point(max, text) {
        None => 0,
        Some((keep, dropped)) => {
            text.truncate(keep);
            push_marker(text, dropped);
            dropped as u64
        }
    }
}

fn cut_value(max: usize, value: &mut Value) -> u64 {
    match value {
        Value::String(text) => cut_string(max, text),
        Value::Array(items) => items.iter_mut().map(|item| cut_value(max, item)).sum(),
        Value::Object(map) => cut_map(max, map),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

fn cut_map(max: usize, map: &mut JsonMap) -> u64 {
    map.values_mut().map(|value| cut_value(max, value)).sum()
}

fn value_over(max: usize, value: &Value) -> bool {
    match value {
        Value::String(text) => text.len() > max,
        Value::Array(items) => items.iter().any(|item| value_over(max, item)),
        Value::Object(map) => map_over(max, map),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

fn map_over(max: usize, map: &JsonMap) -> bool {
    map.values().any(|value| value_over(max, value))
}
