//! The size budget: long fields cut, oversized entries shrunk, batches split.

use serde_json::Value;

use super::transcript::{Transcript, TranscriptEntry};

/// How large the requests to Wayfound may grow. Wayfound accepts up to
/// 750 KB of messages per request; the default leaves room for the rest of
/// the body.
///
/// [`SizeBudget::split`] applies it to a transcript:
///
/// 1. every string longer than `field_chars` characters (a label, a
///    description, any attribute string, however nested) is cut to that
///    length and ends with the marker `…[truncated N chars]`;
/// 2. an entry still larger than `batch_bytes` on its own is shrunk,
///    largest field first: its longest string is cut (down to 64
///    characters), then its largest array or object is replaced by its
///    JSON text and cut, until it fits; an entry of thousands of small
///    fields, as a last resort, keeps one cut `attributes_preview` (the
///    attributes' JSON text) instead of its attributes;
/// 3. entries are packed in order into batches whose JSON array (the
///    `messages` of one request) is at most `batch_bytes`.
///
/// An entry that lost anything says so in its attributes: `truncated: true`
/// and `truncated_fields`, the paths of what was cut (`description`,
/// `attributes.tool_output`, `attributes.rows.3`).
///
/// ```
/// use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind};
///
/// let long = "x".repeat(30_000);
/// let transcript = Transcript::from(vec![
///     TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::AssistantMessage)
///         .with_attribute("content", long),
/// ]);
/// let batches = SizeBudget::default().split(&transcript);
/// let entry = &batches[0][0];
/// let content = entry.attributes["content"].as_str().unwrap();
/// assert!(content.ends_with("…[truncated 10000 chars]"));
/// assert_eq!(entry.attributes["truncated"], true);
/// assert_eq!(entry.attributes["truncated_fields"], serde_json::json!(["attributes.content"]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SizeBudget {
    /// The most bytes of serialized entries (a JSON array) in one request.
    pub batch_bytes: usize,
    /// The most characters in one string field.
    pub field_chars: usize,
}

impl Default for SizeBudget {
    fn default() -> Self {
        SizeBudget {
            batch_bytes: 700_000,
            field_chars: 20_000,
        }
    }
}

/// The shortest a string is cut to when an entry must shrink.
const MIN_KEEP_CHARS: usize = 64;
/// Room for the marker when computing how much to cut.
const MARKER_ROOM: usize = 40;
/// Bound on shrinking steps for one entry.
const MAX_STEPS: usize = 256;

impl SizeBudget {
    /// A budget of `batch_bytes` per request and `field_chars` per field
    /// (`batch_bytes` is raised to 256 and `field_chars` to 64 if lower).
    pub fn new(batch_bytes: usize, field_chars: usize) -> Self {
        SizeBudget {
            batch_bytes: batch_bytes.max(256),
            field_chars: field_chars.max(MIN_KEEP_CHARS),
        }
    }

    /// Sets the bytes per request (at least 256).
    pub fn with_batch_bytes(mut self, batch_bytes: usize) -> Self {
        self.batch_bytes = batch_bytes.max(256);
        self
    }

    /// Sets the characters per field (at least 64).
    pub fn with_field_chars(mut self, field_chars: usize) -> Self {
        self.field_chars = field_chars.max(MIN_KEEP_CHARS);
        self
    }

    /// The transcript's entries, cut to the budget and packed in order into
    /// batches (see the type's docs). An empty transcript gives no batch.
    ///
    /// ```
    /// use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind};
    ///
    /// let entries: Vec<_> = (0..100)
    ///     .map(|i| TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::UserMessage)
    ///         .with_attribute("content", format!("{i}: {}", "y".repeat(500))))
    ///     .collect();
    /// let batches = SizeBudget::default().with_batch_bytes(10_000).split(&Transcript::from(entries));
    /// assert!(batches.len() > 1);
    /// for batch in &batches {
    ///     assert!(serde_json::to_vec(batch).unwrap().len() <= 10_000);
    /// }
    /// assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
    /// ```
    pub fn split(&self, transcript: &Transcript) -> Vec<Vec<TranscriptEntry>> {
        let mut batches: Vec<Vec<TranscriptEntry>> = Vec::new();
        let mut current: Vec<TranscriptEntry> = Vec::new();
        let mut current_bytes = 2; // "[]"
        for entry in transcript.entries() {
            let entry = self.fit(entry.clone());
            let size = json_len(&entry);
            let cost = size + usize::from(!current.is_empty());
            if !current.is_empty() && current_bytes + cost > self.batch_bytes {
                batches.push(std::mem::take(&mut current));
                current_bytes = 2;
            }
            current_bytes += size + usize::from(!current.is_empty());
            current.push(entry);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        batches
    }

    /// One entry cut to the field limit, then shrunk to fit a batch alone.
    fn fit(&self, mut entry: TranscriptEntry) -> TranscriptEntry {
        let mut cut: Vec<String> = Vec::new();
        if let Some(label) = &mut entry.label {
            if truncate_string(label, self.field_chars) {
                cut.push("label".into());
            }
        }
        if let Some(description) = &mut entry.description {
            if truncate_string(description, self.field_chars) {
                cut.push("description".into());
            }
        }
        for (key, value) in entry.attributes.iter_mut() {
            cut_strings(
                value,
                self.field_chars,
                &mut format!("attributes.{key}"),
                &mut cut,
            );
        }
        mark(&mut entry, cut);
        let limit = self.batch_bytes.saturating_sub(2);
        for _ in 0..MAX_STEPS {
            let size = json_len(&entry);
            if size <= limit {
                return entry;
            }
            if !shrink_once(&mut entry, size - limit) {
                break;
            }
        }
        if json_len(&entry) > limit {
            // Thousands of tiny fields: keep a cut preview of the attributes.
            let text = serde_json::to_string(&entry.attributes).unwrap_or_default();
            entry.attributes.clear();
            entry
                .attributes
                .insert("attributes_preview".into(), Value::String(text));
            mark(&mut entry, vec!["attributes".into()]);
            for _ in 0..MAX_STEPS {
                let size = json_len(&entry);
                if size <= limit || !shrink_once(&mut entry, size - limit) {
                    break;
                }
            }
        }
        entry
    }
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_vec(value).map(|v| v.len()).unwrap_or(0)
}

/// Records cut paths in the entry's attributes.
fn mark(entry: &mut TranscriptEntry, cut: Vec<String>) {
    if cut.is_empty() {
        return;
    }
    let fields = entry
        .attributes
        .entry("truncated_fields")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !fields.is_array() {
        *fields = Value::Array(Vec::new());
    }
    if let Value::Array(list) = fields {
        for path in cut {
            let path = Value::String(path);
            if !list.contains(&path) {
                list.push(path);
            }
        }
    }
    entry
        .attributes
        .insert("truncated".into(), Value::Bool(true));
}

fn cut_strings(value: &mut Value, max_chars: usize, path: &mut String, cut: &mut Vec<String>) {
    match value {
        Value::String(text) => cut.extend(truncate_string(text, max_chars).then(|| path.clone())),
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!(".{index}"));
                cut_strings(item, max_chars, path, cut);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                cut_strings(item, max_chars, path, cut);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

const MARKER_START: &str = "…[truncated ";
const MARKER_END: &str = " chars]";

/// Cuts `text` to `max_chars` characters plus the marker, counting what an
/// earlier cut already dropped. Returns whether it cut anything.
fn truncate_string(text: &mut String, max_chars: usize) -> bool {
    let (body, earlier) = split_marker(text);
    let chars = body.chars().count();
    if chars <= max_chars {
        return false;
    }
    let keep_end = body
        .char_indices()
        .nth(max_chars)
        .map_or(body.len(), |(i, _)| i);
    let dropped = chars - max_chars + earlier;
    let kept = body[..keep_end].to_owned();
    *text = format!("{kept}{MARKER_START}{dropped}{MARKER_END}");
    true
}

/// The text before an earlier marker and the count that marker holds.
fn split_marker(text: &str) -> (&str, usize) {
    if let Some(stripped) = text.strip_suffix(MARKER_END) {
        if let Some(at) = stripped.rfind(MARKER_START) {
            if let Ok(n) = stripped[at + MARKER_START.len()..].parse::<usize>() {
                return (&text[..at], n);
            }
        }
    }
    (text, 0)
}

/// Where a field sits in an entry.
#[derive(Clone, Debug)]
enum Slot {
    Label,
    Description,
    Attribute(Vec<PathPart>),
}

#[derive(Clone, Debug)]
enum PathPart {
    Key(String),
    Index(usize),
}

fn slot_name(slot: &Slot) -> String {
    match slot {
        Slot::Label => "label".into(),
        Slot::Description => "description".into(),
        Slot::Attribute(parts) => {
            let mut name = String::from("attributes");
            for part in parts {
                match part {
                    PathPart::Key(key) => {
                        name.push('.');
                        name.push_str(key);
                    }
                    PathPart::Index(index) => name.push_str(&format!(".{index}")),
                }
            }
            name
        }
    }
}

fn value_at<'v>(
    root: &'v mut serde_json::Map<String, Value>,
    parts: &[PathPart],
) -> Option<&'v mut Value> {
    let (first, rest) = parts.split_first()?;
    let PathPart::Key(key) = first else {
        return None;
    };
    let mut value = root.get_mut(key)?;
    for part in rest {
        value = match part {
            PathPart::Key(key) => value.get_mut(key.as_str())?,
            PathPart::Index(index) => value.get_mut(*index)?,
        };
    }
    Some(value)
}

/// Walks the attributes, calling `visit` with each value's path.
fn walk(value: &Value, parts: &mut Vec<PathPart>, visit: &mut dyn FnMut(&[PathPart], &Value)) {
    visit(parts, value);
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                parts.push(PathPart::Index(index));
                walk(item, parts, visit);
                parts.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                parts.push(PathPart::Key(key.clone()));
                walk(item, parts, visit);
                parts.pop();
            }
        }
        _ => {}
    }
}

fn is_bookkeeping(parts: &[PathPart]) -> bool {
    matches!(parts.first(), Some(PathPart::Key(k)) if k == "truncated_fields" || k == "truncated")
}

/// One shrinking step: cut the longest string, or turn the largest array or
/// object into its (then cut) JSON text. Returns whether anything changed.
fn shrink_once(entry: &mut TranscriptEntry, excess: usize) -> bool {
    // The longest string that can still lose characters.
    let mut best: Option<(usize, Slot)> = None;
    let mut consider = |chars: usize, slot: Slot| {
        if chars > MIN_KEEP_CHARS && best.as_ref().is_none_or(|(n, _)| chars > *n) {
            best = Some((chars, slot));
        }
    };
    if let Some(label) = &entry.label {
        consider(split_marker(label).0.chars().count(), Slot::Label);
    }
    if let Some(description) = &entry.description {
        consider(
            split_marker(description).0.chars().count(),
            Slot::Description,
        );
    }
    let mut strings: Vec<(usize, Vec<PathPart>)> = Vec::new();
    let mut containers: Vec<(usize, Vec<PathPart>)> = Vec::new();
    for (key, value) in &entry.attributes {
        let mut parts = vec![PathPart::Key(key.clone())];
        walk(value, &mut parts, &mut |path, v| {
            if is_bookkeeping(path) {
                return;
            }
            match v {
                Value::String(s) => {
                    strings.push((split_marker(s).0.chars().count(), path.to_vec()))
                }
                Value::Array(_) | Value::Object(_) => containers.push((json_len(v), path.to_vec())),
                _ => {}
            }
        });
    }
    for (chars, parts) in strings {
        consider(chars, Slot::Attribute(parts));
    }
    if let Some((chars, slot)) = best {
        let keep = chars
            .saturating_sub(excess + MARKER_ROOM)
            .max(MIN_KEEP_CHARS);
        let changed = match &slot {
            Slot::Label => entry
                .label
                .as_mut()
                .is_some_and(|t| truncate_string(t, keep)),
            Slot::Description => entry
                .description
                .as_mut()
                .is_some_and(|t| truncate_string(t, keep)),
            Slot::Attribute(parts) => match value_at(&mut entry.attributes, parts) {
                Some(Value::String(text)) => truncate_string(text, keep),
                _ => false,
            },
        };
        if changed {
            mark(entry, vec![slot_name(&slot)]);
            return true;
        }
    }
    // No long string left: the largest container becomes text, cut next.
    let largest = containers
        .into_iter()
        .filter(|(size, _)| *size > 2 * MIN_KEEP_CHARS)
        .max_by_key(|(size, _)| *size);
    if let Some((_, parts)) = largest {
        if let Some(value) = value_at(&mut entry.attributes, &parts) {
            let text = serde_json::to_string(value).unwrap_or_default();
            *value = Value::String(text);
            return true;
        }
    }
    false
}
