//! NATS JetStream (feature `nats`): a sink that publishes events and a
//! source that consumes them into a local center.
//!
//! Both ends share one layout: each event is its Agently JSON, published to
//! `<prefix>.<event type>` with its `event_id` as the `Nats-Msg-Id` header,
//! in a stream that captures `<prefix>.>` (created by whichever end comes
//! first) and drops re-published ids within its duplicate window.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::center::RegisterError;

mod sink;
mod source;

pub use sink::{NatsGuard, NatsSink, NatsSinkBuilder, NatsSinkStats};
pub use source::{NatsSource, NatsSourceBuilder, NatsSourceStats};

/// The subject prefix used when the builder names none.
const DEFAULT_PREFIX: &str = "events";
/// The stream name used when the builder names none.
const DEFAULT_STREAM: &str = "EVENTS";
/// The duplicate window of a stream this crate creates (the server's default).
const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long connecting may take before it counts as "no server there".
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The subject an event of type `event_type` is published to:
/// `<prefix>.<token>.<token>...`, one token per dot-separated part of the
/// type.
///
/// Parts made of ASCII letters, digits and the printable characters NATS
/// takes in a subject (`_`, `-`, `:`, ...) are kept as they are, so
/// `model.completed` goes to `events.model.completed`. A byte NATS cannot
/// carry in a token (space and other whitespace, `*`, `>`, anything outside
/// printable ASCII) and the escape character `%` itself become `%XX` (two
/// upper-case hex digits), and an empty part (`a..b`, a leading or trailing
/// dot) becomes the token `%`, which no other part encodes to. The mapping
/// is one to one: two event types never share a subject, and every subject
/// is valid.
fn subject_for(prefix: &str, event_type: &str) -> String {
    let mut subject = String::with_capacity(prefix.len() + 1 + event_type.len());
    subject.push_str(prefix);
    for part in event_type.split('.') {
        subject.push('.');
        push_token(&mut subject, part);
    }
    subject
}

/// Appends one encoded token (see [`subject_for`]).
fn push_token(out: &mut String, part: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if part.is_empty() {
        out.push('%');
        return;
    }
    for byte in part.bytes() {
        if byte.is_ascii_graphic() && !matches!(byte, b'*' | b'>' | b'%') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// A capped exponential backoff: 50 ms, doubling, at most 2 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50)
        .saturating_mul(1 << attempt.min(6))
        .min(Duration::from_secs(2))
}

/// What went wrong with the NATS sink or source; see [`NatsError`].
///
/// ```
/// use event_center::NatsErrorKind;
/// assert_ne!(NatsErrorKind::Connect, NatsErrorKind::Stream);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatsErrorKind {
    /// A builder option is not valid (the message says which and why).
    InvalidOption,
    /// No NATS server answered at the URL.
    Connect,
    /// The JetStream stream could not be created or bound.
    Stream,
    /// The durable consumer could not be created.
    Consumer,
    /// Publishing failed (reported through the center while the sink
    /// retries; the sink's stats say what was lost).
    Publish,
    /// The sink's thread could not be started.
    ThreadUnavailable,
    /// The sink was shut down: the event was not taken.
    Closed,
    /// The center refused the sink's hook (a name taken or blank, a pattern
    /// that does not compile); see [`NatsError::register_error`].
    Register,
}

/// An error of the NATS sink or source: what was wrong and what to do.
///
/// [`NatsSinkBuilder::register`] and [`NatsSourceBuilder::build`] return
/// it; a failure while the sink runs (a publish that failed and is
/// retried, an event lost) is returned by the sink's hook, so the center
/// counts it as failed and reports it as an `event_center.hook_failed`
/// event carrying this error's message, and the sink's [`NatsSinkStats`]
/// count it.
///
/// ```
/// use event_center::{EventCenter, NatsErrorKind, NatsSink};
///
/// let center = EventCenter::new();
/// let err = NatsSink::builder("nats://127.0.0.1:4222")
///     .with_stream("my.events")
///     .register(&center, "nats")
///     .unwrap_err();
/// assert_eq!(err.kind(), NatsErrorKind::InvalidOption);
/// assert!(err.to_string().contains("my.events"));
/// ```
#[derive(Clone, Debug)]
pub struct NatsError {
    kind: NatsErrorKind,
    detail: String,
    /// Boxed: a registration error is rare, and the error stays small.
    register: Option<Box<RegisterError>>,
}

impl NatsError {
    fn new(kind: NatsErrorKind, detail: impl Into<String>) -> Self {
        NatsError {
            kind,
            detail: detail.into(),
            register: None,
        }
    }

    fn register(error: RegisterError) -> Self {
        NatsError {
            register: Some(Box::new(error)),
            ..NatsError::new(NatsErrorKind::Register, "")
        }
    }

    /// What went wrong.
    ///
    /// ```
    /// use event_center::{EventCenter, NatsErrorKind, NatsSink};
    /// let err = NatsSink::builder("nats://127.0.0.1:4222")
    ///     .with_prefix("a.*")
    ///     .register(&EventCenter::new(), "nats")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), NatsErrorKind::InvalidOption);
    /// ```
    pub fn kind(&self) -> NatsErrorKind {
        self.kind
    }

    /// The center's error, when the sink's hook could not be registered
    /// ([`NatsErrorKind::Register`]).
    ///
    /// ```no_run
    /// use event_center::{EventCenter, NatsErrorKind, NatsSink, RegisterErrorKind};
    /// let err = NatsSink::builder("nats://127.0.0.1:4222")
    ///     .with_patterns("model.{a,b}")
    ///     .register(&EventCenter::new(), "nats")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), NatsErrorKind::Register);
    /// assert!(matches!(err.register_error().unwrap().kind(), RegisterErrorKind::InvalidPattern(_)));
    /// ```
    pub fn register_error(&self) -> Option<&RegisterError> {
        self.register.as_deref()
    }
}

impl fmt::Display for NatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = &self.detail;
        match self.kind {
            NatsErrorKind::InvalidOption => write!(f, "invalid NATS option: {detail}"),
            NatsErrorKind::Connect => write!(
                f,
                "cannot connect to NATS: {detail}: start a server (`nats-server -js`) or fix the URL"
            ),
            NatsErrorKind::Stream => write!(f, "cannot use JetStream {detail}"),
            NatsErrorKind::Consumer => write!(f, "cannot use the durable consumer {detail}"),
            NatsErrorKind::Publish => write!(
                f,
                "publishing events to NATS failed: {detail}; the sink retries until the server \
                 acknowledges (check that it is up), and its stats count what was lost"
            ),
            NatsErrorKind::ThreadUnavailable => write!(
                f,
                "the NATS sink could not start its thread ({detail}): the process is out of \
                 threads or memory"
            ),
            NatsErrorKind::Closed => write!(
                f,
                "the NATS sink is shut down: {detail}; keep its guard alive while events \
                 should be published"
            ),
            NatsErrorKind::Register => match &self.register {
                Some(e) => write!(f, "cannot register the NATS sink: {e}"),
                None => f.write_str("cannot register the NATS sink"),
            },
        }
    }
}

impl std::error::Error for NatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.register
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Checks a subject prefix: one or more non-empty dot-separated tokens
/// without whitespace or wildcards.
fn check_prefix(prefix: &str) -> Result<(), NatsError> {
    let bad_token = |t: &str| t.is_empty() || t.contains(|c: char| c.is_whitespace());
    if prefix.split('.').any(bad_token) || prefix.contains(['*', '>']) {
        return Err(NatsError::new(
            NatsErrorKind::InvalidOption,
            format!(
                "subject prefix `{prefix}` must be dot-separated tokens without spaces, \
                 `*` or `>` (for example `events` or `acme.events`)"
            ),
        ));
    }
    Ok(())
}

/// Checks a stream or consumer name as JetStream requires.
fn check_name(what: &str, name: &str) -> Result<(), NatsError> {
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>'))
    {
        return Err(NatsError::new(
            NatsErrorKind::InvalidOption,
            format!("{what} `{name}` must be non-empty, without spaces, `.`, `*` or `>`"),
        ));
    }
    Ok(())
}

/// Connects to `url` (failing, not retrying, when nothing answers).
async fn connect(url: &str, client_name: &str) -> Result<async_nats::Client, NatsError> {
    async_nats::ConnectOptions::new()
        .name(client_name)
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(url)
        .await
        .map_err(|e| NatsError::new(NatsErrorKind::Connect, format!("`{url}`: {e}")))
}

/// Creates the stream taking `<prefix>.>`, or binds it if it exists (it must
/// take those subjects).
async fn bind_stream(
    js: &jetstream::Context,
    name: &str,
    prefix: &str,
    duplicate_window: Duration,
) -> Result<stream::Stream, NatsError> {
    let subjects = format!("{prefix}.>");
    let error = |why: String| {
        NatsError::new(
            NatsErrorKind::Stream,
            format!("stream `{name}` for `{subjects}`: {why}"),
        )
    };
    let stream = js
        .get_or_create_stream(stream::Config {
            name: name.to_owned(),
            subjects: vec![subjects.clone()],
            duplicate_window,
            ..Default::default()
        })
        .await
        .map_err(|e| {
            error(format!(
                "{e}; check that the server runs with JetStream (`nats-server -js`) and that \
                 no other stream takes these subjects"
            ))
        })?;
    let taken = &stream.cached_info().config.subjects;
    if !taken.iter().any(|s| *s == subjects || s == ">") {
        return Err(error(format!(
            "the stream exists and takes {taken:?}, not `{subjects}`; \
             choose another stream name or prefix"
        )));
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of [`subject_for`], for the property below.
    fn event_type_of(subject: &str, prefix: &str) -> String {
        let tail = &subject[prefix.len() + 1..];
        let parts: Vec<String> = tail
            .split('.')
            .map(|token| {
                if token == "%" {
                    return String::new();
                }
                let bytes = token.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' {
                        let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                        out.push(u8::from_str_radix(hex, 16).unwrap());
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            })
            .collect();
        parts.join(".")
    }

    fn is_valid_subject(subject: &str) -> bool {
        subject.split('.').all(|t| {
            !t.is_empty() && t != "*" && t != ">" && t.bytes().all(|b| b.is_ascii_graphic())
        })
    }

    #[test]
    fn ordinary_types_keep_their_subject_readable() {
        assert_eq!(
            subject_for("events", "model.completed"),
            "events.model.completed"
        );
        assert_eq!(
            subject_for("acme.ev", "event_center.hook_failed"),
            "acme.ev.event_center.hook_failed"
        );
    }

    #[test]
    fn every_type_maps_to_a_valid_subject_and_back() {
        let types = [
            "a.b",
            "a..b",
            ".a",
            "a.",
            ".",
            "",
            "my tool.started",
            "a.*",
            "a.>",
            "a.*.b",
            "100%.done",
            "%",
            "%25",
            "tab\there",
            "模型.完成",
            "x.y:z/w",
        ];
        let mut seen = std::collections::HashSet::new();
        for t in types {
            let subject = subject_for("events", t);
            assert!(is_valid_subject(&subject), "{t:?} -> {subject:?}");
            assert_eq!(event_type_of(&subject, "events"), t, "{subject:?}");
            assert!(seen.insert(subject), "{t:?} shares a subject");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_type_round_trips(t in ".*") {
            let subject = subject_for("p", &t);
            proptest::prop_assert!(is_valid_subject(&subject));
            proptest::prop_assert_eq!(event_type_of(&subject, "p"), t);
        }
    }

    #[test]
    fn prefixes_and_names_are_checked() {
        assert!(check_prefix("events").is_ok());
        assert!(check_prefix("acme.events").is_ok());
        for bad in ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "a*"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("stream", "EVENTS").is_ok());
        for bad in ["", "a.b", "a b", "a*", ">"] {
            assert!(check_name("stream", bad).is_err(), "{bad:?}");
        }
    }
}
