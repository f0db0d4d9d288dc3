//! The redaction stage (mask values under secret-looking keys) and the
//! per-event size limit (truncate oversized strings, flag the event).
//!
//! Both work on an owned `&mut Event` before the center shares it with hooks,
//! and both are cheap when there is nothing to do: they walk the event without
//! allocating, and clone the shared parts (`meta`, `run`) only when something
//! in them changes.

mod size_limit;

pub use size_limit::SizeLimit;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::event::{Event, JsonMap};

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

#[cfg(test)]
mod tests;
