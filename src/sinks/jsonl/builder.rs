//! The builder: the path, the patterns, rotation, the fsync policy and the
//! delivery, checked, and the sink opened and registered from them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::guard::JsonlGuard;
use super::writer::{FileWriter, Rotation};
use super::{start_flusher, FsyncPolicy, JsonlError, JsonlErrorKind, JsonlSink, Shared, Stop};
use crate::center::EventCenter;
use crate::delivery::{Delivery, HookOptions};
use crate::pattern::Patterns;
use crate::sinks::registration::Registration;

#[cfg(doc)]
use crate::delivery::Overflow;

/// Builds a [`JsonlSink`] and registers it; see [`JsonlSink::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{Delivery, EventCenter, FsyncPolicy, JsonlSink, Overflow};
///
/// let dir = std::env::temp_dir().join(format!("jsonl-builder-{}", std::process::id()));
/// let center = EventCenter::new();
/// let guard = JsonlSink::builder(dir.join("events.jsonl"))
///     .with_patterns(["model.*", "tool.*"])
///     .with_rotation(64 * 1024 * 1024, 5)
///     .with_fsync(FsyncPolicy::EveryN(1000))
///     .with_delivery(Delivery::background(16_384, Overflow::Block))
///     .with_flush_interval(Duration::from_millis(50))
///     .with_flush_timeout(Duration::from_secs(2))
///     .register(&center, "jsonl")?;
/// assert!(guard.path().ends_with("events.jsonl"));
/// # drop(guard); std::fs::remove_dir_all(dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until register() is called"]
pub struct JsonlSinkBuilder {
    pub(super) path: PathBuf,
    pub(super) patterns: Patterns,
    pub(super) rotation: Option<(u64, usize)>,
    pub(super) fsync: FsyncPolicy,
    pub(super) delivery: Delivery,
    pub(super) flush_interval: Duration,
    pub(super) flush_timeout: Duration,
}

impl JsonlSinkBuilder {
    /// The event types the sink writes (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes: a pattern, a list of patterns
    /// or [`Patterns::All`]; a bad pattern is reported by
    /// [`register`](JsonlSinkBuilder::register).
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// Rotates the file when the next line would take it past `max_bytes`:
    /// `events.jsonl` becomes `events.jsonl.1`, `.1` becomes `.2` and so
    /// on, and at most `max_files` files are kept, the one being written
    /// included (the oldest is deleted). A line is never split across
    /// files: a single line longer than `max_bytes` gets a file of its own.
    /// Default: no rotation. `max_bytes` or `max_files` of 0 is refused by
    /// [`register`](JsonlSinkBuilder::register).
    pub fn with_rotation(mut self, max_bytes: u64, max_files: usize) -> Self {
        self.rotation = Some((max_bytes, max_files));
        self
    }

    /// When written lines are fsynced (default [`FsyncPolicy::OnFlush`]).
    pub fn with_fsync(mut self, policy: FsyncPolicy) -> Self {
        self.fsync = policy;
        self
    }

    /// How the sink's hook receives its events.
    /// Default: `Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest)`,
    /// a queue of 65,536 events that never makes the emitter wait: if the
    /// disk falls that far behind, new events are dropped and counted (in
    /// [`EventCenter::stats`]), as `tracing-appender`'s lossy writer does.
    /// Choose [`Overflow::Block`] to lose nothing and let the emitter wait
    /// instead. [`Delivery::Inline`] would write on the emitting thread and
    /// is refused by [`register`](JsonlSinkBuilder::register).
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How soon buffered lines reach the file when no more events come
    /// (default 100 ms). Lines are written in blocks of about 128 KiB while
    /// events keep coming, and at once on a flush.
    pub fn with_flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// How long dropping the [`JsonlGuard`] waits for the sink's queue to
    /// drain before it writes the rest and closes the file (default 5 s).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Opens the file (creating it and missing parent directories; an
    /// existing file is appended to), starts the sink's flusher thread and
    /// registers the sink on `center` under `name`, with its patterns and
    /// its background [`Delivery`]: the sink's events never run on the emit
    /// path. Returns the guard, the sink's only handle, which flushes and
    /// closes the sink when dropped.
    ///
    /// # Errors
    ///
    /// A [`JsonlError`] naming the path: the file or its directory cannot be
    /// opened or created ([`JsonlErrorKind::Open`]), an option is out of
    /// range ([`JsonlErrorKind::InvalidOption`]), or the center refused the
    /// hook (a name taken or blank, a pattern that does not compile:
    /// [`JsonlErrorKind::Register`], with the center's error in
    /// [`register_error`](JsonlError::register_error)).
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlErrorKind, JsonlSink, RegisterErrorKind};
    ///
    /// let center = EventCenter::new();
    /// let not_a_dir = std::env::temp_dir().join(format!("jsonl-file-{}", std::process::id()));
    /// std::fs::write(&not_a_dir, "a file, not a directory").unwrap();
    /// let err = JsonlSink::builder(not_a_dir.join("events.jsonl")).register(&center, "jsonl").unwrap_err();
    /// assert_eq!(err.kind(), &JsonlErrorKind::Open);
    /// assert!(err.to_string().contains("events.jsonl"));
    ///
    /// let err = JsonlSink::builder(not_a_dir.join("x")).with_rotation(0, 3).register(&center, "jsonl").unwrap_err();
    /// assert!(matches!(err.kind(), JsonlErrorKind::InvalidOption(_)));
    ///
    /// let path = std::env::temp_dir().join(format!("jsonl-pattern-{}.jsonl", std::process::id()));
    /// let err = JsonlSink::builder(&path).with_patterns("model.{a,b}").register(&center, "jsonl").unwrap_err();
    /// assert!(matches!(err.register_error().unwrap().kind(), RegisterErrorKind::InvalidPattern(_)));
    /// # std::fs::remove_file(not_a_dir).unwrap();
    /// # let _ = std::fs::remove_file(path);
    /// ```
    pub fn register(self, center: &EventCenter, name: &str) -> Result<JsonlGuard, JsonlError> {
        let invalid = |what: &'static str| {
            Err(JsonlError::new(
                &self.path,
                JsonlErrorKind::InvalidOption(what),
                None,
            ))
        };
        if self.delivery == Delivery::Inline {
            return invalid(
                "Delivery::Inline would write on the emitting thread: use Delivery::background",
            );
        }
        let rotation = match self.rotation {
            None => None,
            Some((0, _)) => return invalid("rotation max_bytes must be at least 1"),
            Some((_, 0)) => return invalid("rotation max_files must be at least 1"),
            Some((max_bytes, max_files)) => Some(Rotation {
                max_bytes,
                max_files,
            }),
        };
        let writer = FileWriter::open(self.path.clone(), rotation, self.fsync)?;
        let stop = Arc::new(Stop::default());
        let shared = Arc::new(Shared {
            writer: Mutex::new(writer),
            path: self.path.clone(),
            stop: stop.clone(),
        });
        start_flusher(Arc::downgrade(&shared), stop, self.flush_interval);
        let options = HookOptions::new().with_delivery(self.delivery);
        let registration = Registration::new(
            center,
            name,
            self.patterns,
            options,
            JsonlSink { shared },
            self.flush_timeout,
        )
        .map_err(|e| JsonlError::register(&self.path, e))?;
        Ok(JsonlGuard { registration })
    }
}
