//! The compact event view Agently DevTools serves by default
//! (`payload_mode` other than `raw`): strings over 4000 characters, lists
//! over 40 items, objects over 80 keys and values nested deeper than 8
//! levels are cut, with the same markers and the same `devtools_view` note
//! pointing at the raw event. Agently cuts the payload and the error; here
//! every part of the event is cut the same way (the message, payload,
//! error, run and its meta, meta, and the unknown top-level fields, of
//! which at most 80 are shown), so no client receives an event deeper or
//! wider than those bounds, whatever was ingested. Only the identifiers
//! (`event_id`, `event_type`, `source`, `level`) and the timestamp are left
//! whole, and the run's own ids are never among the keys cut.
//!
//! Whether an event needs it is decided once, at ingest, by a scan of each
//! part's text that allocates nothing; only those events are parsed again
//! when served.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::ingest::{entries, push_json_str, Entries};
use super::normalize::{FIELDS, RUN_FIELDS};
use super::scrub::string_end;

pub(crate) const MAX_STRING_CHARS: usize = 4000;
const MAX_LIST_ITEMS: usize = 40;
pub(crate) const MAX_DICT_ITEMS: usize = 80;
/// The event fields the view leaves whole.
const WHOLE: [&str; 5] = ["event_id", "event_type", "source", "level", "timestamp"];
const MAX_DEPTH: usize = 8;
const NESTED_MARKER: &str =
    "[devtools compacted nested payload; use raw_event_ref or payload_mode=raw for full value]";

/// Whether the compact view changes this JSON value (a conservative scan:
/// `false` means it certainly does not).
pub(crate) fn needs_compaction(json: &str) -> bool {
    let bytes = json.as_bytes();
    // The open containers (b'[' or b'{') and the commas seen in each.
    let mut kinds = [0u8; MAX_DEPTH + 1];
    let mut commas = [0usize; MAX_DEPTH + 1];
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => {}
            b',' if depth > 0 => {
                commas[depth - 1] += 1;
                let limit = if kinds[depth - 1] == b'[' {
                    MAX_LIST_ITEMS
                } else {
                    MAX_DICT_ITEMS
                };
                if commas[depth - 1] >= limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ if depth > MAX_DEPTH => return true,
            b'{' | b'[' => {
                kinds[depth] = b;
                commas[depth] = 0;
                depth += 1;
            }
            b'"' => {
                let end = string_end(bytes, i);
                // Characters are counted only in a string long enough in
                // bytes to hold too many (an escape counted as one).
                let text = bytes.get(i + 1..end.saturating_sub(1)).unwrap_or(&[]);
                if text.len() > MAX_STRING_CHARS {
                    let mut chars = 0usize;
                    let mut j = 0;
                    while j < text.len() {
                        if text[j] == b'\\' {
                            j += 1;
                        }
                        if text.get(j).is_some_and(|c| c & 0xC0 != 0x80) {
                            chars += 1;
                        }
                        j += 1;
                    }
                    if chars > MAX_STRING_CHARS {
                        return true;
                    }
                }
                // At the closing quote, as the loop steps past it.
                i = end - 1;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// What the compaction cut.
#[derive(Default, Clone, Copy)]
struct Stats {
    strings: usize,
    collections: usize,
    depths: usize,
    original_chars: usize,
    retained_chars: usize,
}

impl Stats {
    fn changed(&self) -> bool {
        self.strings > 0 || self.collections > 0 || self.depths > 0
    }

    fn add(&mut self, other: Stats) {
        self.strings += other.strings;
        self.collections += other.collections;
        self.depths += other.depths;
        self.original_chars += other.original_chars;
        self.retained_chars += other.retained_chars;
    }

    fn marker(&self) -> String {
        format!(
            "{{\"mode\":\"compact\",\"reason\":\"large payload compacted for hot observation \
             queries; use raw_event_ref or payload_mode=raw for scoped raw debug\",\
             \"truncated_strings\":{},\"truncated_collections\":{},\"truncated_depths\":{},\
             \"original_chars\":{},\"retained_chars\":{}}}",
            self.strings, self.collections, self.depths, self.original_chars, self.retained_chars
        )
    }
}

/// The event as served: `raw` gives the stored text; otherwise events
/// marked at ingest are compacted.
pub(crate) fn view(json: &str, marked: bool, raw: bool) -> Cow<'_, str> {
    if raw || !marked {
        return Cow::Borrowed(json);
    }
    compact_event(json).map_or(Cow::Borrowed(json), Cow::Owned)
}

/// The compacted event, or `None` when nothing needed cutting.
fn compact_event(json: &str) -> Option<String> {
    let event: &RawValue = serde_json::from_str(json).ok()?;
    let Entries(fields) = entries(event)?;
    let mut total = Stats::default();
    let mut out = String::with_capacity(json.len().min(1 << 20));
    let mut event_id = String::new();
    let mut unknown = 0usize;
    out.push('{');
    for (key, value) in &fields {
        if !FIELDS.contains(&&**key) {
            unknown += 1;
            if unknown > MAX_DICT_ITEMS {
                continue;
            }
        }
        if out.len() > 1 {
            out.push(',');
        }
        push_json_str(&mut out, key);
        out.push(':');
        if WHOLE.contains(&&**key) || value.get() == "null" {
            if key == "event_id" {
                event_id = serde_json::from_str(value.get()).unwrap_or_default();
            }
            out.push_str(value.get());
            continue;
        }
        let mut stats = Stats::default();
        let start = out.len();
        let keep: &[&str] = if key == "run" { &RUN_FIELDS } else { &[] };
        compact_value(value, &mut stats, 0, keep, &mut out);
        if stats.changed() && out[start..].starts_with('{') && out.len() - start > 2 {
            out.pop();
            out.push_str(",\"__devtools_compaction\":");
            out.push_str(&stats.marker());
            out.push('}');
        }
        total.add(stats);
    }
    if unknown > MAX_DICT_ITEMS {
        total.collections += 1;
        out.push_str(&format!(
            ",\"__devtools_compacted_keys\":{},\"payload_mode\":\"raw\"",
            unknown - MAX_DICT_ITEMS
        ));
    }
    if !total.changed() {
        return None;
    }
    out.push_str(",\"devtools_view\":{\"payload_compacted\":true,\"payload_mode\":\"compact\",\"raw_event_ref\":{\"kind\":\"observation_event\",\"event_id\":");
    push_json_str(&mut out, &event_id);
    out.push_str(",\"endpoint\":");
    push_json_str(&mut out, &format!("/observation/events/{event_id}/raw"));
    out.push_str("},\"compaction\":");
    out.push_str(&total.marker());
    out.push_str("}}");
    Some(out)
}

/// Writes the value compacted. Keys of an object at this level listed in
/// `keep` are kept past the key limit.
fn compact_value(raw: &RawValue, stats: &mut Stats, depth: usize, keep: &[&str], out: &mut String) {
    if depth > MAX_DEPTH {
        stats.depths += 1;
        push_json_str(out, NESTED_MARKER);
        return;
    }
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let value: Cow<'_, str> = serde_json::from_str(text).unwrap_or_default();
            let chars = value.chars().count();
            if chars <= MAX_STRING_CHARS {
                out.push_str(text);
                return;
            }
            let cut = value
                .char_indices()
                .nth(MAX_STRING_CHARS)
                .map_or(value.len(), |(i, _)| i);
            stats.strings += 1;
            stats.original_chars += chars;
            stats.retained_chars += MAX_STRING_CHARS;
            push_json_str(
                out,
                &format!(
                    "{}\n...[devtools compacted {} chars; use raw_event_ref or payload_mode=raw for full value]",
                    &value[..cut],
                    chars - MAX_STRING_CHARS
                ),
            );
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).unwrap_or_default();
            out.push('[');
            for (i, item) in items.iter().take(MAX_LIST_ITEMS).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact_value(item, stats, depth + 1, &[], out);
            }
            if items.len() > MAX_LIST_ITEMS {
                stats.collections += 1;
                out.push_str(&format!(
                    ",{{\"__devtools_compacted_items\":{},\"payload_mode\":\"raw\"}}",
                    items.len() - MAX_LIST_ITEMS
                ));
            }
            out.push(']');
        }
        Some(b'{') => {
            let Entries(fields) = entries(raw).unwrap_or(Entries(Vec::new()));
            out.push('{');
            let mut written = 0usize;
            let mut cut = 0usize;
            for (i, (key, value)) in fields.iter().enumerate() {
                if i >= MAX_DICT_ITEMS && !keep.contains(&&**key) {
                    cut += 1;
                    continue;
                }
                if written > 0 {
                    out.push(',');
                }
                written += 1;
                push_json_str(out, key);
                out.push(':');
                compact_value(value, stats, depth + 1, &[], out);
            }
            if cut > 0 {
                stats.collections += 1;
                if written > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "\"__devtools_compacted_keys\":{cut},\"payload_mode\":\"raw\""
                ));
            }
            out.push('}');
        }
        _ => out.push_str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn nested(levels: usize) -> Value {
        (0..levels).fold(json!(1), |inner, _| json!([inner]))
    }

    #[test]
    fn the_scan_agrees_with_the_compaction() {
        let long = "é".repeat(4001);
        let cases = [
            (json!({"a": "short", "b": [1, 2, 3]}), false),
            (json!({"text": long}), true),
            (json!({"text": "x".repeat(4000)}), false),
            (Value::Array((0..41).map(Value::from).collect()), true),
            (Value::Array((0..40).map(Value::from).collect()), false),
            (
                Value::Object((0..81).map(|i| (format!("k{i}"), Value::from(i))).collect()),
                true,
            ),
            (nested(8), false),
            (nested(9), true),
        ];
        for (payload, expected) in cases {
            let text = payload.to_string();
            assert_eq!(needs_compaction(&text), expected, "{text:.80}");
            let event = json!({"event_id": "e1", "payload": payload}).to_string();
            assert_eq!(compact_event(&event).is_some(), expected, "{text:.80}");
        }
    }

    #[test]
    fn a_long_string_is_cut_with_agentlys_markers() {
        let event =
            json!({"event_id": "e1", "payload": {"text": "x".repeat(4005)}, "timestamp": 1});
        let out: Value = serde_json::from_str(&compact_event(&event.to_string()).unwrap()).unwrap();
        let text = out["payload"]["text"].as_str().unwrap();
        assert!(text.starts_with(&"x".repeat(4000)));
        assert!(text.ends_with("\n...[devtools compacted 5 chars; use raw_event_ref or payload_mode=raw for full value]"));
        assert_eq!(
            out["payload"]["__devtools_compaction"]["truncated_strings"],
            1
        );
        assert_eq!(
            out["payload"]["__devtools_compaction"]["original_chars"],
            4005
        );
        assert_eq!(
            out["devtools_view"]["raw_event_ref"]["endpoint"],
            "/observation/events/e1/raw"
        );
        assert_eq!(out["timestamp"], 1);
    }
}
