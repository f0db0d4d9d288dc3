//! One linear pass over the JSON text of each part of an ingested event: it
//! refuses nesting deeper than serde_json reads back (so what ingest stores,
//! export writes and import takes back, the same limit everywhere), masks
//! the values under secret-looking keys with the library's [`Redaction`]
//! (the same key test, `token` carve-outs, booleans and `null` kept, the
//! same mask), and puts JSON spread over several lines on one line. Every
//! other byte is kept as written: numbers, key order, escapes, repeated keys.
//!
//! The text was already checked as JSON by serde_json (as a `RawValue`);
//! the pass still never panics on any input.

use std::borrow::Cow;

use crate::redact::Class;
use crate::Redaction;

use super::server::ObservationServerBuilder;

/// The deepest nesting of objects and arrays an event may have, the event
/// object itself counted: serde_json, hence [`Event::parse`](crate::Event::parse),
/// the JSONL reader and the NATS source, reads no deeper.
pub(crate) const MAX_NESTING: usize = 127;

/// A part nested deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep;

/// What the pass applies: a redaction and its mask as JSON text.
pub(crate) struct Scrubber<'r> {
    redaction: &'r Redaction,
    mask: String,
}

impl<'r> Scrubber<'r> {
    pub(crate) fn new(redaction: &'r Redaction) -> Self {
        Scrubber {
            redaction,
            mask: serde_json::to_string(redaction.mask()).unwrap_or_else(|_| "null".to_owned()),
        }
    }

    /// The mask as JSON text.
    pub(crate) fn mask_text(&self) -> &str {
        &self.mask
    }

    /// How a key matches; `Plain` when redaction is off.
    pub(crate) fn class(&self, key: &str) -> Class {
        if self.redaction.is_enabled() {
            self.redaction.key_class(key)
        } else {
            Class::Plain
        }
    }

    /// Whether a value (its JSON text) under a key of this class is masked:
    /// not `null` or a boolean, a number only under a key that is secret
    /// for more than `token`, and not already the mask.
    pub(crate) fn masks(&self, class: Class, value: &str) -> bool {
        match value.as_bytes().first() {
            None | Some(b'n' | b't' | b'f') => false,
            Some(b'-' | b'0'..=b'9') => class == Class::Secret,
            Some(_) => class != Class::Plain && value != self.mask,
        }
    }

    /// The part's text, scrubbed. `depth` is how many containers enclose it
    /// in the event (1 for a top-level field). Keys of the part's own
    /// object (not nested ones) listed in `fixed` are never masked (the
    /// run's ids, the error's type and message), though their values are
    /// walked.
    pub(crate) fn scrub<'a>(
        &self,
        text: &'a str,
        depth: usize,
        fixed: &[&str],
    ) -> Result<Cow<'a, str>, TooDeep> {
        let bytes = text.as_bytes();
        let strip = memchr::memchr2(b'\n', b'\r', bytes).is_some();
        let mut out = Edits::new(text);
        let mut objects = Nest::default();
        let mut expect_key = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                open @ (b'{' | b'[') => {
                    if depth + objects.len + 1 > MAX_NESTING {
                        return Err(TooDeep);
                    }
                    objects.push(open == b'{');
                    expect_key = open == b'{';
                    i += 1;
                }
                b'}' | b']' => {
                    objects.pop();
                    expect_key = false;
                    i += 1;
                }
                b',' => {
                    expect_key = objects.in_object();
                    i += 1;
                }
                b'"' => {
                    let end = string_end(bytes, i);
                    if !expect_key {
                        i = end;
                        continue;
                    }
                    expect_key = false;
                    let key = decode(text.get(i + 1..end.saturating_sub(1)).unwrap_or(""));
                    let class = if objects.len == 1 && fixed.contains(&&*key) {
                        Class::Plain
                    } else {
                        self.class(&key)
                    };
                    if class == Class::Plain {
                        i = end;
                        continue;
                    }
                    // The value: after the colon and any whitespace.
                    let mut start = end;
                    while start < bytes.len()
                        && matches!(bytes[start], b':' | b' ' | b'\t' | b'\n' | b'\r')
                    {
                        start += 1;
                    }
                    let stop = value_end(bytes, start, depth + objects.len)?;
                    if strip && start - end > 1 {
                        out.replace(end, start, ":");
                    }
                    if self.masks(class, &text[start..stop]) {
                        out.replace(start, stop, &self.mask);
                    }
                    i = stop;
                }
                b' ' | b'\t' | b'\n' | b'\r' if strip => {
                    let start = i;
                    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                        i += 1;
                    }
                    out.replace(start, i, "");
                }
                _ => i += 1,
            }
        }
        Ok(out.finish())
    }
}

/// The open containers of a part, innermost last: whether each is an
/// object, a bit each (the nesting limit keeps them under 128), so the pass
/// allocates nothing for them.
#[derive(Default)]
struct Nest {
    objects: u128,
    len: usize,
}

impl Nest {
    fn push(&mut self, object: bool) {
        self.objects = (self.objects << 1) | u128::from(object);
        self.len += 1;
    }

    fn pop(&mut self) {
        self.objects >>= 1;
        self.len = self.len.saturating_sub(1);
    }

    /// Whether the innermost open container is an object.
    fn in_object(&self) -> bool {
        self.len > 0 && self.objects & 1 == 1
    }
}

/// Replacements of ranges of a text, in order; nothing is allocated until
/// the first one.
struct Edits<'a> {
    text: &'a str,
    out: Option<String>,
    copied: usize,
}

impl<'a> Edits<'a> {
    fn new(text: &'a str) -> Self {
        Edits {
            text,
            out: None,
            copied: 0,
        }
    }

    fn replace(&mut self, from: usize, to: usize, with: &str) {
        let (Some(kept), Some(_)) = (self.text.get(self.copied..from), self.text.get(from..to))
        else {
            return;
        };
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.text.len()));
        out.push_str(kept);
        out.push_str(with);
        self.copied = to;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.text),
            Some(mut out) => {
                out.push_str(self.text.get(self.copied..).unwrap_or(""));
                Cow::Owned(out)
            }
        }
    }
}

/// The index just past the string starting at `at` (its opening quote).
pub(crate) fn string_end(bytes: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while let Some(found) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        let at = i + found;
        if bytes[at] == b'"' {
            return at + 1;
        }
        // An escape: the next byte is escaped.
        i = at + 2;
    }
    bytes.len()
}

/// The index just past the value starting at `at`; refuses containers that
/// would nest deeper than [`MAX_NESTING`] (`depth` enclose the value).
fn value_end(bytes: &[u8], at: usize, depth: usize) -> Result<usize, TooDeep> {
    let mut open = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                if open == 0 {
                    return Ok(i);
                }
                continue;
            }
            b'{' | b'[' => {
                open += 1;
                if depth + open > MAX_NESTING {
                    return Err(TooDeep);
                }
            }
            b'}' | b']' => {
                if open == 0 {
                    return Ok(i);
                }
                open -= 1;
                if open == 0 {
                    return Ok(i + 1);
                }
            }
            b',' if open == 0 => return Ok(i),
            b' ' | b'\t' | b'\n' | b'\r' if open == 0 => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    Ok(bytes.len())
}

/// A JSON string's content (without its quotes) decoded; a lone surrogate
/// becomes U+FFFD, so such a key is still tested by its letters.
pub(crate) fn decode(inner: &str) -> Cow<'_, str> {
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let hex = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
        let digits: String = chars.by_ref().take(4).collect();
        u32::from_str_radix(&digits, 16).ok()
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let Some(unit) = hex(&mut chars) else {
                    out.push('\u{fffd}');
                    continue;
                };
                if (0xD800..0xDC00).contains(&unit) {
                    let mut ahead = chars.clone();
                    let low = (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                        .then(|| hex(&mut ahead))
                        .flatten()
                        .filter(|low| (0xDC00..0xE000).contains(low));
                    if let Some(low) = low {
                        chars = ahead;
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        continue;
                    }
                }
                out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Cow::Owned(out)
}

impl ObservationServerBuilder {
    /// The redaction ingest applies before storing or streaming an event
    /// (default: [`Redaction::default`], the library's own): values under
    /// secret-looking keys are masked in the payload, meta, run (and its
    /// meta), error and extra fields, with every other byte kept as sent.
    /// [`Redaction::none`] stores events as sent.
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str) -> String {
        Scrubber::new(&Redaction::default())
            .scrub(text, 1, &[])
            .unwrap()
            .into_owned()
    }

    #[test]
    fn secrets_are_masked_and_every_other_byte_kept() {
        assert_eq!(
            scrub(
                r#"{"a" : 1e2, "api_key" :"k", "n":123456789012345678901234567890,"x":[{"Password":{"deep":[1]}}]}"#
            ),
            r#"{"a" : 1e2, "api_key" :"[REDACTED]", "n":123456789012345678901234567890,"x":[{"Password":"[REDACTED]"}]}"#
        );
        let plain = r#"{"tokens":5,"max_token":7,"token":9,"secret":true,"pwd":null,"token_type":"Bearer"}"#;
        assert_eq!(scrub(plain), plain);
        assert_eq!(
            scrub(r#"{"secret":5,"access_token":"t","p\u0061sswd":"x","k\ud800ey_secret":"y"}"#),
            r#"{"secret":"[REDACTED]","access_token":"[REDACTED]","p\u0061sswd":"[REDACTED]","k\ud800ey_secret":"[REDACTED]"}"#
        );
        assert_eq!(scrub(r#"["password","token"]"#), r#"["password","token"]"#);
    }

    #[test]
    fn scrubbing_is_idempotent_and_off_with_none() {
        let once = scrub(r#"{"cookie":{"a":[1,2]},"b":{"credentials":"c"}}"#);
        assert_eq!(scrub(&once), once);
        let text = r#"{"password":"p"}"#;
        let none = Redaction::none();
        assert_eq!(Scrubber::new(&none).scrub(text, 1, &[]).unwrap(), text);
    }

    #[test]
    fn fixed_keys_are_kept_at_the_top_only() {
        let redaction = Redaction::default().with_key("message");
        let scrubber = Scrubber::new(&redaction);
        assert_eq!(
            scrubber
                .scrub(
                    r#"{"message":"m","details":{"message":"x"}}"#,
                    1,
                    &["message", "details"]
                )
                .unwrap(),
            r#"{"message":"m","details":{"message":"[REDACTED]"}}"#
        );
    }

    #[test]
    fn line_breaks_are_removed_outside_strings() {
        assert_eq!(
            scrub("{\n \"k\": \"a b\\n\",\r\n \"token\" :\n \"t\"\n}"),
            r#"{"k":"a b\n","token":"[REDACTED]"}"#
        );
    }

    #[test]
    fn nesting_is_refused_past_serde_jsons_limit() {
        let redaction = Redaction::default();
        let scrubber = Scrubber::new(&redaction);
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(scrubber.scrub(&nested(MAX_NESTING - 1), 1, &[]).is_ok());
        assert_eq!(scrubber.scrub(&nested(MAX_NESTING), 1, &[]), Err(TooDeep));
        // Also inside a masked value.
        let masked = format!("{{\"secret\":{}}}", nested(MAX_NESTING - 1));
        assert_eq!(scrubber.scrub(&masked, 1, &[]), Err(TooDeep));
    }
}
