//! The redaction stage (mask values under secret-looking keys) and the
//! per-event size limit (truncate oversized strings, flag the event).
//!
//! Both work on an owned `&mut Event` before the center shares it with hooks,
//! and both are cheap when there is nothing to do: they walk the event without
//! allocating, and clone the shared parts (`meta`, `run`) only when something
//! in them changes.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::Value;

use crate::event::{Event, JsonMap};
use crate::text::SharedStr;

/// The secret words on by default, already in their normalized form.
/// (`client_secret`, `x-api-key` and `set-cookie` need no word of their own:
/// they contain `secret`, `apikey` and `cookie`.)
const DEFAULT_WORDS: [&str; 11] = [
    "apikey",
    "authorization",
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "cookie",
    "privatekey",
    "accesskey",
    "credentials",
];

/// The one secret word that is also a unit of LLM usage.
const TOKEN: &str = "token";

/// What may directly follow `token` in a normalized key for that occurrence to
/// be about LLM tokens rather than credentials: `token_count`,
/// `token_usage`, `token_limit`, `token_budget`, `token_type` (OAuth's
/// `"Bearer"`), `tokenizer`, `tokenise`. A plural `s` counts too when it ends
/// a word (see [`ends_word`]): `prompt_tokens`, `tokensUsed`.
const TOKEN_USAGE_SUFFIXES: [&str; 7] = ["count", "usage", "limit", "budget", "type", "iz", "is"];

/// Normalized keys up to this many bytes are built on the stack.
const STACK_KEY: usize = 128;

/// The redaction stage: masks the values of keys that look secret, anywhere in
/// an event, before any hook sees it.
///
/// # Which keys look secret
///
/// A key is first *normalized*: only its letters and digits are kept, in
/// lowercase (so `api_key`, `API-KEY`, `apiKey` and `Api Key` all become
/// `apikey`). It looks secret when the normalized key **contains** one of the
/// secret words: by default `apikey`, `authorization`, `password`, `passwd`,
/// `pwd`, `secret`, `token`, `cookie`, `privatekey`, `accesskey` and
/// `credentials`, plus any added with [`with_key`](Self::with_key), which are
/// normalized the same way. So `x-api-key`, `Authorization`,
/// `Proxy-Authorization`, `access_token`, `client_secret`, `Set-Cookie`,
/// `db_password`, `PASSWD`, `private_key`, `AWS_ACCESS_KEY_ID` and
/// `Credentials` all match, in any case.
///
/// `token` is also the unit of LLM usage, and usage counters are exactly what
/// an observer wants to see, so that one word has two carve-outs:
///
/// - an occurrence of `token` directly followed (after normalizing) by
///   `count`, `usage`, `limit`, `budget`, `type`, `iz` or `is`, or by a
///   plural `s` that ends a word (the key ends there, or a separator, a digit
///   or a camelCase capital follows) does not count: `tokens`,
///   `prompt_tokens`, `completion_tokens`, `total_tokens`, `max_tokens`,
///   `prompt_tokens_details`, `tokensUsed`, `token_count`,
///   `candidates_token_count`, `token_usage`, `token_limit`, `token_type`
///   (OAuth's `"Bearer"`), `tokenizer` are not secret, while `tokenString`
///   and `TOKENSTORE` are;
/// - a key that looks secret only because of `token` keeps a number value
///   (`max_token: 100`, `token_index: 3` are counters, not credentials).
///
/// A key that also contains another secret word (`oauth_token_secret`) is
/// secret whatever follows `token`. A word added with `with_key` has no
/// carve-outs, except that adding `token` again changes nothing.
///
/// # What is masked
///
/// The value under a secret key is replaced by the mask (the string
/// `"[REDACTED]"` unless [`with_mask`](Self::with_mask) says otherwise)
/// whatever it holds (a string, a number, an array, an object), except that
/// `null` stays `null` and booleans stay as they are: neither can carry a
/// secret, and `"password_set": true` is worth seeing. Values that already
/// equal the mask count as unchanged, so redacting twice is a no-op.
///
/// Keys are looked for at any depth (objects inside arrays inside objects) in
/// the `payload`, the `meta`, the run's meta (`run.meta`), the error's
/// `details` and the unknown top-level fields kept in `extra`. Free text (the
/// message, the error's message and traceback) is not scanned: redaction goes
/// by key, not by content.
///
/// ```
/// use event_center::{Event, Redaction};
/// use serde_json::json;
///
/// let mut event = Event::new("model.requested").with_payload(json!({
///     "headers": {"Authorization": "Bearer sk-123", "Accept": "text/plain"},
///     "usage": {"prompt_tokens": 12, "total_tokens": 40},
/// }));
/// assert!(Redaction::default().redact(&mut event));
/// assert_eq!(
///     event.payload,
///     json!({
///         "headers": {"Authorization": "[REDACTED]", "Accept": "text/plain"},
///         "usage": {"prompt_tokens": 12, "total_tokens": 40},
///     })
/// );
/// ```
#[derive(Clone)]
pub struct Redaction {
    words: Arc<[Word]>,
    mask: Value,
}

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.words.iter().map(|w| &*w.text).collect();
        f.debug_struct("Redaction")
            .field("words", &words)
            .field("mask", &self.mask)
            .finish()
    }
}

/// One secret word, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    text: Box<str>,
    /// Its bytes as a [`letters`] set: a key that lacks one cannot match.
    letters: u32,
    /// `token`: the usage carve-outs apply.
    usage_aware: bool,
}

/// How a key matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Not secret.
    Plain,
    /// Secret only through `token`: numbers are kept.
    Token,
    /// Secret.
    Secret,
}

impl Default for Redaction {
    /// On, with the default secret words and the mask `"[REDACTED]"`.
    ///
    /// ```
    /// use event_center::{Event, Redaction};
    /// use serde_json::json;
    ///
    /// let mut event = Event::new("tool.called").with_payload(json!({"api_key": "k-1", "city": "Oslo"}));
    /// Redaction::default().redact(&mut event);
    /// assert_eq!(event.payload, json!({"api_key": "[REDACTED]", "city": "Oslo"}));
    /// ```
    fn default() -> Self {
        Redaction {
            words: DEFAULT_WORDS.iter().map(|w| Word::new(w)).collect(),
            mask: default_mask(),
        }
    }
}

fn default_mask() -> Value {
    Value::String("[REDACTED]".to_owned())
}

impl Word {
    fn new(normalized: &str) -> Self {
        Word {
            usage_aware: normalized == TOKEN,
            letters: letters(normalized.as_bytes()).0,
            text: normalized.into(),
        }
    }
}

impl Redaction {
    /// Redaction off: no secret words, so nothing is masked. Words added with
    /// [`with_key`](Self::with_key) turn it on for those words only.
    ///
    /// ```
    /// use event_center::{Event, Redaction};
    /// use serde_json::json;
    ///
    /// let mut event = Event::new("x.y").with_payload(json!({"password": "hunter2", "ssn": "123"}));
    /// assert!(!Redaction::none().is_enabled());
    /// assert!(!Redaction::none().redact(&mut event));
    ///
    /// assert!(Redaction::none().with_key("SSN").redact(&mut event));
    /// assert_eq!(event.payload, json!({"password": "hunter2", "ssn": "[REDACTED]"}));
    /// ```
    pub fn none() -> Self {
        Redaction {
            words: Arc::new([]),
            mask: default_mask(),
        }
    }

    /// Adds a secret word, matched like the default ones: normalized (letters
    /// and digits only, lowercased), then looked for inside each normalized
    /// key. A key with no letter or digit (`""`, `"--"`) would match every
    /// key, so it is ignored; a word already present is not added twice.
    ///
    /// ```
    /// use event_center::{Event, Redaction};
    /// use serde_json::json;
    ///
    /// let redaction = Redaction::default().with_key("Private-Key").with_key("");
    /// let mut event = Event::new("x.y").with_payload(json!({"ssh_private_key": "-----BEGIN", "path": "/"}));
    /// redaction.redact(&mut event);
    /// assert_eq!(event.payload, json!({"ssh_private_key": "[REDACTED]", "path": "/"}));
    /// ```
    pub fn with_key(mut self, key: impl AsRef<str>) -> Self {
        let normalized =
            normalize_unicode(key.as_ref(), |n| String::from_utf8_lossy(n).into_owned());
        if normalized.is_empty() || self.words.iter().any(|w| *w.text == *normalized) {
            return self;
        }
        let mut words = self.words.to_vec();
        words.push(Word::new(&normalized));
        self.words = words.into();
        self
    }

    /// Sets the value that replaces a secret (by default the string
    /// `"[REDACTED]"`).
    ///
    /// ```
    /// use event_center::{Event, Redaction};
    /// use serde_json::json;
    ///
    /// let mut event = Event::new("x.y").with_payload(json!({"token": "abc"}));
    /// Redaction::default().with_mask("***").redact(&mut event);
    /// assert_eq!(event.payload, json!({"token": "***"}));
    /// ```
    pub fn with_mask(mut self, mask: impl Into<Value>) -> Self {
        self.mask = mask.into();
        self
    }

    /// Whether this stage can mask anything (it has at least one secret word).
    ///
    /// ```
    /// use event_center::Redaction;
    /// assert!(Redaction::default().is_enabled());
    /// assert!(!Redaction::none().is_enabled());
    /// assert!(Redaction::none().with_key("ssn").is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        !self.words.is_empty()
    }

    /// Masks every secret value in the event; returns whether anything
    /// changed.
    ///
    /// When nothing matches, this only walks the event: no allocation, and
    /// `meta` and `run` stay shared with whatever else holds them. When a
    /// secret is found in `meta` or `run.meta`, that part is cloned first
    /// (clone-on-write), so other events sharing it keep their values.
    ///
    /// ```
    /// use event_center::{ErrorInfo, Event, Redaction};
    /// use serde_json::json;
    ///
    /// let mut error = ErrorInfo::new("HttpError", "401");
    /// error.details.insert("request".into(), json!({"cookie": "sid=1", "url": "/v1"}));
    /// let mut event = Event::new("model.failed")
    ///     .with_error(error)
    ///     .with_meta("x-api-key", "k-1");
    ///
    /// let redaction = Redaction::default();
    /// assert!(redaction.redact(&mut event));
    /// assert_eq!(event.meta["x-api-key"], "[REDACTED]");
    /// assert_eq!(event.error.as_ref().unwrap().details["request"], json!({"cookie": "[REDACTED]", "url": "/v1"}));
    /// assert!(!redaction.redact(&mut event), "a second pass finds nothing left to mask");
    /// ```
    pub fn redact(&self, event: &mut Event) -> bool {
        if !self.is_enabled() {
            return false;
        }
        let mut changed = self.redact_value(&mut event.payload);
        if let Some(error) = event.error.as_deref_mut() {
            changed |= self.redact_map(&mut error.details);
        }
        changed |= self.redact_map(&mut event.extra);
        if let Some(run) = &mut event.run {
            if self.map_needs(&run.meta) {
                changed |= self.redact_map(&mut Arc::make_mut(run).meta);
            }
        }
        if self.map_needs(&event.meta) {
            changed |= self.redact_map(Arc::make_mut(&mut event.meta));
        }
        changed
    }

    /// Whether [`redact`](Self::redact) would change the event; walks it
    /// without changing or allocating anything.
    ///
    /// A center uses this to hand hooks that opted out of redaction the
    /// original event and everyone else a redacted copy, and to skip the copy
    /// when there is nothing to hide.
    ///
    /// ```
    /// use event_center::{Event, Redaction};
    /// use serde_json::json;
    ///
    /// let redaction = Redaction::default();
    /// let usage = Event::new("model.completed").with_payload(json!({"usage": {"total_tokens": 40}}));
    /// let login = Event::new("auth.login").with_payload(json!([{"user": "ann", "password": "pw"}]));
    /// assert!(!redaction.needs_redaction(&usage));
    /// assert!(redaction.needs_redaction(&login));
    /// ```
    pub fn needs_redaction(&self, event: &Event) -> bool {
        self.is_enabled()
            && (self.value_needs(&event.payload)
                || event
                    .error
                    .as_deref()
                    .is_some_and(|error| self.map_needs(&error.details))
                || self.map_needs(&event.extra)
                || event
                    .run
                    .as_deref()
                    .is_some_and(|run| self.map_needs(&run.meta))
                || self.map_needs(&event.meta))
    }

    fn redact_value(&self, value: &mut Value) -> bool {
        match value {
            Value::Object(map) => self.redact_map(map),
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.redact_value(item);
                }
                changed
            }
            _ => false,
        }
    }

    fn redact_map(&self, map: &mut JsonMap) -> bool {
        let mut changed = false;
        for (key, value) in map.iter_mut() {
            match self.classify(key) {
                Class::Plain => changed |= self.redact_value(value),
                class => {
                    if self.masks(class, value) {
                        *value = self.mask.clone();
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    fn value_needs(&self, value: &Value) -> bool {
        match value {
            Value::Object(map) => self.map_needs(map),
            Value::Array(items) => items.iter().any(|item| self.value_needs(item)),
            _ => false,
        }
    }

    fn map_needs(&self, map: &JsonMap) -> bool {
        map.iter().any(|(key, value)| match self.classify(key) {
            Class::Plain => self.value_needs(value),
            class => self.masks(class, value),
        })
    }

    /// Whether a value under a key of this class is replaced by the mask.
    fn masks(&self, class: Class, value: &Value) -> bool {
        let maskable = match value {
            Value::Null | Value::Bool(_) => false,
            Value::Number(_) => class == Class::Secret,
            Value::String(_) | Value::Array(_) | Value::Object(_) => true,
        };
        maskable && *value != self.mask
    }

    /// The mask that replaces secret values.
    #[cfg(feature = "server")]
    pub(crate) fn mask(&self) -> &Value {
        &self.mask
    }

    /// How a key matches (the key test of [`redact`](Self::redact)), for
    /// callers that walk JSON text rather than [`Value`]s.
    #[cfg(feature = "server")]
    pub(crate) fn key_class(&self, key: &str) -> Class {
        self.classify(key)
    }

    fn classify(&self, key: &str) -> Class {
        let words = &*self.words;
        if words.is_empty() {
            return Class::Plain;
        }
        let (letters, high) = letters(key.as_bytes());
        if high & 0x80 != 0 {
            return normalize_unicode(key, |key| classify_in(words, key, self::letters(key).0));
        }
        // Scanned in place: `FOLD` lowercases and skips separators.
        classify_in(words, key.as_bytes(), letters)
    }
}

/// Classifies a key that is ASCII, or already normalized, given its
/// [`letters`].
fn classify_in(words: &[Word], key: &[u8], letters: u32) -> Class {
    let mut class = Class::Plain;
    // Most keys lack some letter of every word and skip the scan.
    for word in words.iter().filter(|w| w.letters & !letters == 0) {
        let Some((&first, tail)) = word.text.as_bytes().split_first() else {
            continue;
        };
        for (at, &byte) in key.iter().enumerate() {
            if FOLD[usize::from(byte)] != first {
                continue;
            }
            let Some(end) = match_from(key, at + 1, tail) else {
                continue;
            };
            if !word.usage_aware {
                return Class::Secret;
            }
            let usage = TOKEN_USAGE_SUFFIXES
                .iter()
                .any(|suffix| match_from(key, end, suffix.as_bytes()).is_some())
                || match_from(key, end, b"s").is_some_and(|after| ends_word(key, after));
            if !usage {
                class = Class::Token;
                break;
            }
        }
    }
    class
}

/// Whether a word of `key` ends just before byte `at`: the key ends there, or
/// a separator or digit follows, or a capital follows a small letter
/// (camelCase). In a key normalized from non-ASCII text, only the end is.
fn ends_word(key: &[u8], at: usize) -> bool {
    match key.get(at) {
        None => true,
        Some(&next) if next.is_ascii_uppercase() => at > 0 && key[at - 1].is_ascii_lowercase(),
        Some(&next) => next.is_ascii() && !next.is_ascii_lowercase(),
    }
}

/// The set of bytes in `bytes`, folded to 32 bits by their low five bits (so
/// each ASCII letter in either case has its own bit, and other bytes share
/// bits with letters: a superset test, never a false "absent"); and all the
/// bytes or-ed together, whose high bit says whether any is non-ASCII.
fn letters(bytes: &[u8]) -> (u32, u8) {
    bytes.iter().fold((0, 0), |(letters, high), &byte| {
        (letters | 1 << (byte & 31), high | byte)
    })
}

/// Each byte as it counts in a normalized key: ASCII letters lowercased,
/// digits kept, other ASCII bytes `0` (skipped), non-ASCII bytes kept (keys
/// holding them are normalized with [`normalize_unicode`] first).
const FOLD: [u8; 256] = {
    let mut fold = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        fold[byte] = if b.is_ascii_alphanumeric() || !b.is_ascii() {
            b.to_ascii_lowercase()
        } else {
            0
        };
        byte += 1;
    }
    fold
};

/// Matches `word` (normalized) against `key` from byte `at`, skipping
/// separators; returns where the match ends.
fn match_from(key: &[u8], mut at: usize, word: &[u8]) -> Option<usize> {
    for &want in word {
        loop {
            let byte = FOLD[usize::from(*key.get(at)?)];
            at += 1;
            if byte == want {
                break;
            }
            if byte != 0 {
                return None;
            }
        }
    }
    Some(at)
}

/// Calls `f` with the normalized form of a key: its letters and digits,
/// lowercased (Unicode-aware). Built on the stack for keys up to
/// [`STACK_KEY`] bytes.
fn normalize_unicode<R>(key: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut stack = [0u8; STACK_KEY];
    let mut len = 0;
    let mut heap: Vec<u8> = Vec::new();
    let mut push = |bytes: &[u8]| {
        if heap.is_empty() && len + bytes.len() <= STACK_KEY {
            stack[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack[..len]);
            }
            heap.extend_from_slice(bytes);
        }
    };
    for c in key.chars().filter(|c| c.is_alphanumeric()) {
        for lower in c.to_lowercase() {
            push(lower.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    if heap.is_empty() {
        f(&stack[..len])
    } else {
        f(&heap)
    }
}

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
    ///
    /// ```
    /// assert_eq!(event_center::SizeLimit::new(4096).max_bytes(), 4096);
    /// ```
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
fn cut_point(max: usize, text: &str) -> Option<(usize, usize)> {
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

fn marker_len(dropped: usize) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ErrorInfo;
    use crate::run::RunContext;
    use serde_json::json;

    fn redacted(payload: Value) -> Value {
        let mut event = Event::new("t.t").with_payload(payload);
        Redaction::default().redact(&mut event);
        event.payload
    }

    #[test]
    fn secret_keys_match_in_any_case_and_spelling() {
        for key in [
            "api_key",
            "apikey",
            "API_KEY",
            "apiKey",
            "Api Key",
            "api.key",
            "x-api-key",
            "X-API-KEY",
            "Authorization",
            "proxy-authorization",
            "password",
            "db_password",
            "PASSWORD",
            "secret",
            "client_secret",
            "clientSecret",
            "token",
            "access_token",
            "refreshToken",
            "id_token",
            "x-auth-token",
            "oauth_token_secret",
            "tokenString",
            "TOKENSTORE",
            "token_store",
            "cookie",
            "Set-Cookie",
            "SET-COOKIE",
            "passwd",
            "DB_PASSWD",
            "pwd",
            "PWD",
            "private_key",
            "PrivateKey",
            "ssh-private-key",
            "client_secret",
            "CLIENT_SECRET",
            "access_key",
            "AWS_ACCESS_KEY_ID",
            "accessKey",
            "credentials",
            "Credentials",
            "aws_credentials",
            "x-api-key",
            "X-Api-Key",
        ] {
            assert_eq!(
                redacted(json!({ key: "s3cr3t" })),
                json!({ key: "[REDACTED]" }),
                "{key} should be secret"
            );
        }
    }

    #[test]
    fn plain_keys_are_left_alone() {
        let payload = json!({"user": "ann", "city": "Oslo", "api": "v1", "key": "k", "auth": "x"});
        assert_eq!(redacted(payload.clone()), payload);
    }

    #[test]
    fn llm_usage_counters_are_not_secrets() {
        let payload = json!({
            "tokens": 42,
            "token_count": 7,
            "prompt_tokens": 12,
            "completion_tokens": 30,
            "total_tokens": 42,
            "max_tokens": 1024,
            "max_token": 1024,
            "tokens_used": 9,
            "tokensUsed": "9",
            "TOTAL_TOKENS": "9",
            "tokens2": "9",
            "input_tokens": 1,
            "output_tokens": 2,
            "cache_read_input_tokens": 3,
            "promptTokenCount": 4,
            "candidates_token_count": 5,
            "token_index": 6,
            "usage": {
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
            "token_usage": {"total": 40},
            "token_limit": 8192,
            "tokenizer": "cl100k_base",
            "token_type": "Bearer",
            "generated": {"tokens": ["Hel", "lo"]},
        });
        assert_eq!(redacted(payload.clone()), payload);
    }

    #[test]
    fn token_strings_and_objects_are_masked_but_not_counters() {
        assert_eq!(
            redacted(json!({"access_token": {"value": "a"}, "auth_token": ["a"], "token": 5})),
            json!({"access_token": "[REDACTED]", "auth_token": "[REDACTED]", "token": 5})
        );
    }

    #[test]
    fn any_value_type_is_masked_except_null_and_booleans() {
        assert_eq!(
            redacted(json!({
                "password": 1234,
                "secret": {"nested": "x"},
                "cookie": ["a", "b"],
                "api_key": null,
                "password_set": true,
            })),
            json!({
                "password": "[REDACTED]",
                "secret": "[REDACTED]",
                "cookie": "[REDACTED]",
                "api_key": null,
                "password_set": true,
            })
        );
    }

    #[test]
    fn nested_objects_and_arrays_are_walked() {
        assert_eq!(
            redacted(json!({
                "calls": [
                    {"tool": "http", "args": {"headers": [{"Authorization": "Bearer x"}]}},
                    [[{"client_secret": "y", "ok": 1}]],
                ],
            })),
            json!({
                "calls": [
                    {"tool": "http", "args": {"headers": [{"Authorization": "[REDACTED]"}]}},
                    [[{"client_secret": "[REDACTED]", "ok": 1}]],
                ],
            })
        );
        assert_eq!(
            redacted(json!(["token", "password"])),
            json!(["token", "password"])
        );
    }

    #[test]
    fn error_details_run_meta_and_extra_are_redacted() {
        let mut error = ErrorInfo::new("HttpError", "401 for token abc");
        error
            .details
            .insert("request".into(), json!({"headers": {"cookie": "sid"}}));
        let run = RunContext::new("agent_execution").with_meta("api_key", "k");
        let mut event = Event::new("t.t").with_error(error).with_run(run.clone());
        event.extra.insert("password".into(), json!("pw"));
        assert!(Redaction::default().redact(&mut event));
        let error = event.error.as_deref().unwrap();
        assert_eq!(error.details["request"]["headers"]["cookie"], "[REDACTED]");
        assert_eq!(
            error.message, "401 for token abc",
            "free text is not scanned"
        );
        assert_eq!(event.run.as_deref().unwrap().meta["api_key"], "[REDACTED]");
        assert_eq!(event.run.as_deref().unwrap().run_id, run.run_id);
        assert_eq!(event.extra["password"], "[REDACTED]");
        assert_eq!(run.meta["api_key"], "k");
    }

    #[test]
    fn shared_meta_and_run_are_cloned_on_write_only() {
        let first = Event::new("t.t")
            .with_meta("token", "abc")
            .with_run(RunContext::new("a").with_meta("secret", "s"));
        let mut second = first.clone();
        assert!(Arc::ptr_eq(&first.meta, &second.meta));
        assert!(Redaction::default().redact(&mut second));
        assert_eq!(second.meta["token"], "[REDACTED]");
        assert_eq!(second.run.as_deref().unwrap().meta["secret"], "[REDACTED]");
        assert_eq!(first.meta["token"], "abc");
        assert_eq!(first.run.as_deref().unwrap().meta["secret"], "s");

        let clean = Event::new("t.t")
            .with_meta("tenant", "demo")
            .with_run(RunContext::new("a"));
        let mut copy = clean.clone();
        assert!(!Redaction::default().redact(&mut copy));
        assert!(Arc::ptr_eq(&clean.meta, &copy.meta));
        assert!(Arc::ptr_eq(
            clean.run.as_ref().unwrap(),
            copy.run.as_ref().unwrap()
        ));
    }

    #[test]
    fn nothing_to_redact_returns_false() {
        let mut event = Event::new("model.completed")
            .with_payload(json!({"tokens": 42, "text": "hi"}))
            .with_meta("tenant", "demo");
        let before = event.clone();
        let redaction = Redaction::default();
        assert!(!redaction.needs_redaction(&event));
        assert!(!redaction.redact(&mut event));
        assert_eq!(event.payload, before.payload);
        assert_eq!(event.meta, before.meta);
    }

    #[test]
    fn needs_redaction_agrees_with_redact() {
        let redaction = Redaction::default();
        for payload in [
            json!(null),
            json!({"a": [{"b": {"password": "x"}}]}),
            json!({"token": 3}),
            json!({"token": "[REDACTED]"}),
            json!({"secret": false}),
        ] {
            let mut event = Event::new("t.t").with_payload(payload.clone());
            let needed = redaction.needs_redaction(&event);
            assert_eq!(needed, redaction.redact(&mut event), "{payload}");
        }
    }

    #[test]
    fn user_keys_are_normalized_and_blank_ones_ignored() {
        let redaction = Redaction::none()
            .with_key("Social-Security")
            .with_key("")
            .with_key(" _-");
        assert_eq!(redaction.words.len(), 1);
        let mut event =
            Event::new("t.t").with_payload(json!({"social_security_no": "1", "password": "p"}));
        assert!(redaction.redact(&mut event));
        assert_eq!(
            event.payload,
            json!({"social_security_no": "[REDACTED]", "password": "p"})
        );
        assert_eq!(
            Redaction::default().with_key("TOKEN").words.len(),
            DEFAULT_WORDS.len()
        );
    }

    #[test]
    fn non_ascii_and_long_keys_are_normalized() {
        let redaction = Redaction::none().with_key("Пароль");
        let mut event = Event::new("t.t").with_payload(json!({"ПАРОЛЬ_пользователя": "x"}));
        assert!(redaction.redact(&mut event));
        assert_eq!(event.payload["ПАРОЛЬ_пользователя"], "[REDACTED]");

        let long = format!("{}_password", "a".repeat(300));
        assert_eq!(redacted(json!({ &long: "x" }))[&long], "[REDACTED]");
    }

    #[test]
    fn custom_mask_and_disabled_redaction() {
        let mut event = Event::new("t.t").with_payload(json!({"token": "abc"}));
        assert!(!Redaction::none().redact(&mut event));
        assert!(Redaction::default()
            .with_mask(json!(null))
            .redact(&mut event));
        assert_eq!(event.payload, json!({"token": null}));
    }

    #[test]
    fn size_limit_cuts_at_a_char_boundary_with_a_visible_marker() {
        // 'é' is two bytes: an odd cut point must step back to a boundary.
        let text = "é".repeat(100);
        let mut event = Event::new("t.t").with_payload(json!({"a": [text.clone()], "b": "short"}));
        let limit = SizeLimit::new(65);
        assert!(limit.apply(&mut event));
        let cut = event.payload["a"][0].as_str().unwrap();
        assert!(cut.len() <= 65, "{}", cut.len());
        let (kept, marker) = cut.split_at(cut.find('…').unwrap());
        assert!(text.starts_with(kept));
        let dropped = text.len() - kept.len();
        assert_eq!(marker, format!("…[truncated {dropped} bytes]"));
        assert_eq!(event.payload["b"], "short");
        assert_eq!(event.meta["truncated"], true);
        assert_eq!(event.meta["truncated_bytes"], dropped as u64);
    }

    #[test]
    fn size_limit_covers_message_error_meta_and_sums_the_flag() {
        let long = "x".repeat(200);
        let mut error = ErrorInfo::new("E", long.clone());
        error.traceback = Some(long.clone());
        error.details.insert("body".into(), json!(long.clone()));
        let shared = Event::new("t.t").with_meta("prompt", long.clone());
        let mut event = shared.clone().with_message(long.clone()).with_error(error);
        let limit = SizeLimit::new(100);
        assert!(limit.apply(&mut event));
        let error = event.error.as_deref().unwrap();
        for text in [
            event.message.as_deref().unwrap(),
            &error.message,
            error.traceback.as_deref().unwrap(),
            error.details["body"].as_str().unwrap(),
            event.meta["prompt"].as_str().unwrap(),
        ] {
            assert!(text.len() <= 100 && text.ends_with("bytes]"), "{text}");
        }
        let per_string = 200 - event.message.as_deref().unwrap().find('…').unwrap();
        assert_eq!(event.meta["truncated_bytes"], (5 * per_string) as u64);
        assert_eq!(
            shared.meta["prompt"], long,
            "shared meta is cloned on write"
        );

        // A second, tighter pass adds to the count.
        assert!(SizeLimit::new(64).apply(&mut event));
        assert!(event.meta["truncated_bytes"].as_u64().unwrap() > (5 * per_string) as u64);
    }

    #[test]
    fn size_limit_within_bounds_is_a_no_op() {
        let event = Event::new("t.t")
            .with_payload(json!({"a": "x".repeat(64)}))
            .with_meta("m", "y".repeat(64));
        let mut copy = event.clone();
        assert!(!SizeLimit::new(64).apply(&mut copy));
        assert!(Arc::ptr_eq(&event.meta, &copy.meta));
        assert_eq!(copy.payload, event.payload);
    }

    /// The matching rule written the slow, obvious way: build the normalized
    /// key (remembering where each byte came from), search it with `find`.
    fn reference_class(redaction: &Redaction, key: &str) -> Class {
        let ascii = key.is_ascii();
        let (normal, origin): (String, Vec<usize>) = if ascii {
            key.char_indices()
                .filter(|(_, c)| c.is_ascii_alphanumeric())
                .map(|(at, c)| (c.to_ascii_lowercase(), at))
                .unzip()
        } else {
            let normal: String = key
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            let origin = (0..normal.len()).collect();
            (normal, origin)
        };
        // Where the byte after normalized position `at` is, in the key the
        // scanner sees (the raw key if ASCII, else the normalized one).
        let raw_after = |at: usize| match at.checked_sub(1) {
            Some(last) if ascii => origin[last] + 1,
            _ => at,
        };
        let scanned = if ascii {
            key.as_bytes()
        } else {
            normal.as_bytes()
        };
        let mut class = Class::Plain;
        for word in redaction.words.iter() {
            let mut from = 0;
            while let Some(found) = normal[from..].find(&*word.text) {
                let start = from + found;
                from = start + 1;
                if !word.usage_aware {
                    return Class::Secret;
                }
                let rest = &normal[start + word.text.len()..];
                let usage = TOKEN_USAGE_SUFFIXES.iter().any(|s| rest.starts_with(s))
                    || (rest.starts_with('s')
                        && ends_word(scanned, raw_after(start + word.text.len() + 1)));
                if !usage {
                    class = Class::Token;
                }
            }
        }
        class
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        #[test]
        fn classify_agrees_with_the_reference(
            parts in proptest::collection::vec(
                proptest::sample::select(&[
                    "token", "TOKEN", "Token", "s", "S", "_", "-", " ", ".", "2", "count",
                    "usage", "limit", "is", "iz", "type", "used", "Used", "string", "api",
                    "Key", "key", "secret", "pass", "word", "cookie", "auth", "orization",
                    "x", "é", "ТОКЕН", "токен", "ok", "en", "t",
                ][..]),
                0..7,
            )
        ) {
            let key = parts.concat();
            let redaction = Redaction::default().with_key("ТОКЕН");
            proptest::prop_assert_eq!(redaction.classify(&key), reference_class(&redaction, &key));
        }
    }

    #[test]
    fn stages_are_shareable_across_threads() {
        fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
        shareable::<Redaction>();
        shareable::<SizeLimit>();
        let debug = format!("{:?}", Redaction::none().with_key("SSN"));
        assert!(
            debug.contains("ssn") && debug.contains("[REDACTED]"),
            "{debug}"
        );
    }

    #[test]
    fn marker_always_fits_even_for_huge_strings() {
        assert_eq!(marker_len(0), "…[truncated 0 bytes]".len());
        assert_eq!(marker_len(usize::MAX), "…[truncated  bytes]".len() + 20);
        assert!(marker_len(usize::MAX) < SizeLimit::MIN_BYTES);
        let text = "y".repeat(1_000_000);
        let (keep, dropped) = cut_point(64, &text).unwrap();
        assert!(keep + marker_len(dropped) <= 64);
    }
}
