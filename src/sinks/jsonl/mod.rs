//! The JSONL file sink: one Agently-shaped event per line, written by the
//! hook's background worker, with size-based rotation, an fsync policy and
//! a flush-on-drop guard; and the reader that loads such a file back.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::center::{EventCenter, FlushReport, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::text::SharedStr;

mod reader;
mod writer;

pub use reader::{read_jsonl, BadLine, JsonlRead};

use writer::{FileWriter, Rotation};

/// How long [`JsonlGuard`]'s drop waits for the center's queues by default.
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often buffered lines are written out when no more events come.
const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// When the sink asks the operating system to put written lines on disk
/// (`fsync`, as `File::sync_data`). Without an fsync, written lines are in
/// the OS page cache: they survive the process crashing, not the machine.
///
/// ```
/// use event_center::FsyncPolicy;
/// assert_eq!(FsyncPolicy::default(), FsyncPolicy::OnFlush);
/// assert_ne!(FsyncPolicy::EveryN(100), FsyncPolicy::Never);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// Never: the operating system writes back when it likes.
    Never,
    /// After every `n` events (writing out what is buffered first), on an
    /// explicit flush and before a file is rotated away. `EveryN(1)` syncs
    /// every event: durable, and about a hundred times slower. `EveryN(0)`
    /// is taken as `EveryN(1)`.
    EveryN(u64),
    /// On an explicit flush ([`JsonlSink::flush`], [`JsonlGuard::flush`]),
    /// when the guard is dropped and before a file is rotated away.
    #[default]
    OnFlush,
}

/// Builds a [`JsonlSink`]; see [`JsonlSink::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{Delivery, FsyncPolicy, JsonlSink, Overflow};
///
/// let dir = std::env::temp_dir().join(format!("jsonl-builder-{}", std::process::id()));
/// let sink = JsonlSink::builder(dir.join("events.jsonl"))
///     .with_patterns(["model.*", "tool.*"])
///     .with_rotation(64 * 1024 * 1024, 5)
///     .with_fsync(FsyncPolicy::EveryN(1000))
///     .with_delivery(Delivery::background(16_384, Overflow::Block))
///     .with_flush_interval(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// assert!(sink.path().ends_with("events.jsonl"));
/// # drop(sink); std::fs::remove_dir_all(dir).unwrap();
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct JsonlSinkBuilder {
    path: PathBuf,
    patterns: Patterns,
    rotation: Option<(u64, usize)>,
    fsync: FsyncPolicy,
    delivery: Delivery,
    flush_interval: Duration,
    flush_timeout: Duration,
}

impl JsonlSinkBuilder {
    /// The event types the sink writes (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes: a pattern, a list of patterns
    /// or [`Patterns::All`]; a bad pattern is reported by
    /// [`JsonlSink::register`].
    ///
    /// ```
    /// let builder = event_center::JsonlSink::builder("events.jsonl").with_patterns("action.*");
    /// assert!(format!("{builder:?}").contains(r#"List(["action.*"])"#));
    /// ```
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
    /// [`build`](JsonlSinkBuilder::build).
    ///
    /// ```
    /// // At most 3 files of about 10 MB: events.jsonl, .1 and .2.
    /// let builder = event_center::JsonlSink::builder("events.jsonl").with_rotation(10_000_000, 3);
    /// assert!(format!("{builder:?}").contains("Some((10000000, 3))"));
    /// ```
    pub fn with_rotation(mut self, max_bytes: u64, max_files: usize) -> Self {
        self.rotation = Some((max_bytes, max_files));
        self
    }

    /// When written lines are fsynced (default [`FsyncPolicy::OnFlush`]).
    ///
    /// ```
    /// use event_center::{FsyncPolicy, JsonlSink};
    /// let builder = JsonlSink::builder("events.jsonl").with_fsync(FsyncPolicy::Never);
    /// assert!(format!("{builder:?}").contains("fsync: Never"));
    /// ```
    pub fn with_fsync(mut self, policy: FsyncPolicy) -> Self {
        self.fsync = policy;
        self
    }

    /// How [`register`](JsonlSink::register) delivers events to the sink.
    /// Default: `Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest)`,
    /// a queue of 65,536 events that never makes the emitter wait: if the
    /// disk falls that far behind, new events are dropped and counted (in
    /// [`EventCenter::stats`]), as `tracing-appender`'s lossy writer does.
    /// Choose [`Overflow::Block`] to lose nothing and let the emitter wait
    /// instead. [`Delivery::Inline`] would write on the emitting thread and
    /// is refused by [`build`](JsonlSinkBuilder::build).
    ///
    /// ```
    /// use event_center::{Delivery, JsonlSink, Overflow};
    /// let builder = JsonlSink::builder("events.jsonl")
    ///     .with_delivery(Delivery::background(100_000, Overflow::Block));
    /// assert!(format!("{builder:?}").contains("capacity: 100000, overflow: Block"));
    /// ```
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How soon buffered lines reach the file when no more events come
    /// (default 100 ms). Lines are written in blocks of about 128 KiB while
    /// events keep coming, and at once on a flush.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = event_center::JsonlSink::builder("events.jsonl")
    ///     .with_flush_interval(Duration::from_millis(10));
    /// assert!(format!("{builder:?}").contains("flush_interval: 10ms"));
    /// ```
    pub fn with_flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// How long dropping the [`JsonlGuard`] waits for the center's queues
    /// to drain (default 5 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = event_center::JsonlSink::builder("events.jsonl")
    ///     .with_flush_timeout(Duration::from_secs(1));
    /// assert!(format!("{builder:?}").contains("flush_timeout: 1s"));
    /// ```
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Opens the file (creating it and missing parent directories; an
    /// existing file is appended to) and starts the sink's flusher thread.
    ///
    /// # Errors
    ///
    /// A [`JsonlError`] naming the path: the file or its directory cannot be
    /// opened or created ([`JsonlErrorKind::Open`]), or an option is out of
    /// range ([`JsonlErrorKind::InvalidOption`]).
    ///
    /// ```
    /// use event_center::{JsonlErrorKind, JsonlSink};
    ///
    /// let not_a_dir = std::env::temp_dir().join(format!("jsonl-file-{}", std::process::id()));
    /// std::fs::write(&not_a_dir, "a file, not a directory").unwrap();
    /// let err = JsonlSink::builder(not_a_dir.join("events.jsonl")).build().unwrap_err();
    /// assert_eq!(err.kind(), &JsonlErrorKind::Open);
    /// assert!(err.to_string().contains("events.jsonl"));
    ///
    /// let err = JsonlSink::builder(not_a_dir.join("x")).with_rotation(0, 3).build().unwrap_err();
    /// assert!(matches!(err.kind(), JsonlErrorKind::InvalidOption(_)));
    /// # std::fs::remove_file(not_a_dir).unwrap();
    /// ```
    pub fn build(self) -> Result<JsonlSink, JsonlError> {
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
            path: self.path,
            stop: stop.clone(),
        });
        start_flusher(Arc::downgrade(&shared), stop, self.flush_interval);
        Ok(JsonlSink {
            shared,
            patterns: self.patterns,
            delivery: self.delivery,
            flush_timeout: self.flush_timeout,
        })
    }
}

/// A file sink: writes each event it receives as one line of Agently's
/// event JSON (what [`Event`] serializes to, read back by [`read_jsonl`] or
/// [`Event::parse`]).
///
/// The sink is a [`Hook`]. [`register`](JsonlSink::register) registers it
/// on a background queue, so the emitter only queues the event: the hook's
/// worker serializes it into a buffer, which is written to the file in
/// blocks, when the events stop for a moment (see
/// [`with_flush_interval`](JsonlSinkBuilder::with_flush_interval)) and on a
/// flush. Keep the returned [`JsonlGuard`] alive: dropping it flushes.
///
/// Write errors (a full disk, a file that cannot be reopened) never panic
/// and never reach the emitter: the hook returns the error, so the center
/// counts it as failed and reports it as `event_center.hook_failed`; the
/// events that did not reach the file are counted in
/// [`JsonlStats::lost`]; the sink reopens the file at its next write and
/// goes on.
///
/// ```
/// use event_center::{read_jsonl, EventCenter, JsonlSink};
///
/// let dir = std::env::temp_dir().join(format!("jsonl-sink-{}", std::process::id()));
/// let path = dir.join("events.jsonl");
/// let center = EventCenter::new();
/// let guard = JsonlSink::builder(&path).build()?.register(&center, "jsonl")?;
///
/// let emitter = center.emitter("Planner");
/// emitter.emit("action.loop_started").payload(serde_json::json!({"goal": "a flight"})).send();
/// emitter.emit("model.completed").send();
/// drop(guard); // waits for the queue, writes the file and fsyncs it
///
/// let read = read_jsonl(&path)?;
/// let types: Vec<_> = read.events.iter().map(|e| e.event_type.to_string()).collect();
/// // `tool.loop_started` is the compatibility twin of `action.loop_started`.
/// assert_eq!(types, ["action.loop_started", "tool.loop_started", "model.completed"]);
/// assert_eq!(read.events[0].payload["goal"], "a flight");
/// # std::fs::remove_dir_all(dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JsonlSink {
    shared: Arc<Shared>,
    patterns: Patterns,
    delivery: Delivery,
    flush_timeout: Duration,
}

/// What the sink, its guard, the center's worker and the flusher thread
/// share.
struct Shared {
    writer: Mutex<FileWriter>,
    path: PathBuf,
    stop: Arc<Stop>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FileWriter> {
        // The writer never panics while holding the lock; a poisoned lock
        // still holds consistent state.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

/// Tells the flusher thread to end.
#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }

    /// Sleeps `interval`; false once the sink is gone.
    fn sleep(&self, interval: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, interval, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        !*stopped
    }
}

/// Writes buffered lines out when events stop coming. It holds the sink
/// weakly and ends when the sink is dropped. If the thread cannot be
/// started, lines are still written in blocks and on every flush.
///
/// A `Hook` learns of events only: nothing tells it that its worker's queue
/// ran dry or that the center was asked to flush, so the sink cannot write
/// its buffer out at those moments itself. This thread (and the guard's
/// flush) stands in for such a callback.
fn start_flusher(shared: Weak<Shared>, stop: Arc<Stop>, interval: Duration) {
    let interval = interval.max(Duration::from_millis(1));
    let _ = std::thread::Builder::new()
        .name("event-center-jsonl-flush".into())
        .spawn(move || {
            while stop.sleep(interval) {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                // Never waits on a busy worker: a worker holding the lock
                // is writing anyway.
                if let Ok(mut writer) = shared.writer.try_lock() {
                    if writer.has_buffered() {
                        writer.flush_in_background();
                    }
                };
            }
        });
}

impl fmt::Debug for JsonlSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlSink")
            .field("path", &self.shared.path)
            .field("patterns", &self.patterns)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl JsonlSink {
    /// A builder for a sink writing to `path`.
    ///
    /// ```
    /// let builder = event_center::JsonlSink::builder("logs/events.jsonl");
    /// assert!(format!("{builder:?}").contains("overflow: DropNewest"));
    /// ```
    pub fn builder(path: impl AsRef<Path>) -> JsonlSinkBuilder {
        JsonlSinkBuilder {
            path: path.as_ref().to_path_buf(),
            patterns: Patterns::All,
            rotation: None,
            fsync: FsyncPolicy::default(),
            delivery: Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest),
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
    }

    /// Registers the sink on `center` under `name`, with its patterns and
    /// its background [`Delivery`], and returns the guard that flushes it
    /// when dropped. The sink's events never run on the emit path.
    ///
    /// # Errors
    ///
    /// The center's [`RegisterError`]: the name is taken or blank, or a
    /// pattern does not compile.
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink, RegisterErrorKind};
    ///
    /// let path = std::env::temp_dir().join(format!("jsonl-register-{}.jsonl", std::process::id()));
    /// let center = EventCenter::new();
    /// let sink = JsonlSink::builder(&path).with_patterns("model.{a,b}").build().unwrap();
    /// let err = sink.register(&center, "jsonl").unwrap_err();
    /// assert!(matches!(err.kind(), RegisterErrorKind::InvalidPattern(_)));
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: impl Into<SharedStr>,
    ) -> Result<JsonlGuard, RegisterError> {
        let name = name.into();
        let options = HookOptions::new().with_delivery(self.delivery.clone());
        center.register_hook_with(name.clone(), self.patterns.clone(), options, self.clone())?;
        Ok(JsonlGuard {
            center: center.clone(),
            name,
            sink: self,
        })
    }

    /// Writes every buffered line to the file and fsyncs it (unless the
    /// policy is [`FsyncPolicy::Never`]). Events still in the center's
    /// queue are not waited for: [`JsonlGuard::flush`] does both.
    ///
    /// # Errors
    ///
    /// The write or fsync error, naming the path; the lines that did not
    /// reach the file are counted in [`JsonlStats::lost`].
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("jsonl-flush-{}.jsonl", std::process::id()));
    /// let sink = event_center::JsonlSink::builder(&path).build().unwrap();
    /// sink.flush().unwrap();
    /// assert_eq!(sink.stats().buffered, 0);
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn flush(&self) -> Result<(), JsonlError> {
        self.shared.lock().flush(true)
    }

    /// The sink's counters: events written, lost, buffered; bytes, errors,
    /// rotations and fsyncs.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("jsonl-stats-{}.jsonl", std::process::id()));
    /// let sink = event_center::JsonlSink::builder(&path).build().unwrap();
    /// assert_eq!(sink.stats().written, 0);
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn stats(&self) -> JsonlStats {
        self.shared.lock().stats()
    }

    /// The path of the file being written.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("jsonl-path-{}.jsonl", std::process::id()));
    /// let sink = event_center::JsonlSink::builder(&path).build().unwrap();
    /// assert_eq!(sink.path(), path);
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.shared.path
    }
}

impl Hook for JsonlSink {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        Ok(self.shared.lock().append(event)?)
    }

    fn on_unregister(&self, _name: &str) {
        let _ = self.shared.lock().flush(true);
    }
}

/// Returned by [`JsonlSink::register`]: dropping it waits (up to the
/// builder's [`flush timeout`](JsonlSinkBuilder::with_flush_timeout)) for
/// the center's queues, unregisters the sink, writes what is buffered and
/// fsyncs the file (unless the policy is [`FsyncPolicy::Never`]), like
/// `tracing-appender`'s `WorkerGuard`. Hold it for as long as events should
/// be written (`let _guard = ...`, not `let _ = ...`, which drops it at
/// once).
///
/// ```
/// use event_center::{EventCenter, JsonlSink};
///
/// let path = std::env::temp_dir().join(format!("jsonl-guard-{}.jsonl", std::process::id()));
/// let center = EventCenter::new();
/// let guard = JsonlSink::builder(&path).build().unwrap().register(&center, "jsonl").unwrap();
/// center.emitter("Agent").emit("model.requested").send();
/// let report = guard.flush().unwrap();
/// assert!(report.is_complete());
/// assert_eq!(guard.stats().written, 1);
/// drop(guard);
/// assert!(center.hook_names().is_empty());
/// # std::fs::remove_file(path).unwrap();
/// ```
#[must_use = "dropping the guard flushes and unregisters the sink at once: keep it alive"]
pub struct JsonlGuard {
    center: EventCenter,
    name: SharedStr,
    sink: JsonlSink,
}

impl fmt::Debug for JsonlGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlGuard")
            .field("name", &self.name)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl JsonlGuard {
    /// Waits (up to the flush timeout) until the center's queues are
    /// drained, then writes what the sink buffered and fsyncs it (unless
    /// the policy is [`FsyncPolicy::Never`]). Returns the center's report:
    /// `pending > 0` means the timeout came first.
    ///
    /// # Errors
    ///
    /// The sink's write or fsync error, naming the path.
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gflush-{}.jsonl", std::process::id()));
    /// let center = EventCenter::new();
    /// let guard = JsonlSink::builder(&path).build().unwrap().register(&center, "jsonl").unwrap();
    /// for _ in 0..10 {
    ///     center.emitter("Agent").emit("model.delta").send();
    /// }
    /// guard.flush().unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 10);
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn flush(&self) -> Result<FlushReport, JsonlError> {
        let report = self.center.flush(self.sink.flush_timeout);
        self.sink.flush()?;
        Ok(report)
    }

    /// The sink's counters; see [`JsonlSink::stats`].
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gstats-{}.jsonl", std::process::id()));
    /// let guard = JsonlSink::builder(&path).build().unwrap().register(&EventCenter::new(), "j").unwrap();
    /// assert_eq!(guard.stats().lost, 0);
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn stats(&self) -> JsonlStats {
        self.sink.stats()
    }

    /// The registered sink.
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlSink};
    /// let path = std::env::temp_dir().join(format!("jsonl-gsink-{}.jsonl", std::process::id()));
    /// let guard = JsonlSink::builder(&path).build().unwrap().register(&EventCenter::new(), "j").unwrap();
    /// assert_eq!(guard.sink().path(), path);
    /// # drop(guard); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn sink(&self) -> &JsonlSink {
        &self.sink
    }
}

impl Drop for JsonlGuard {
    fn drop(&mut self) {
        self.center.flush(self.sink.flush_timeout);
        // Unregistering flushes and fsyncs the file (`on_unregister`).
        if !self.center.unregister_hook(&self.name) {
            let _ = self.sink.flush();
        }
    }
}

/// A JSONL sink's counters; see [`JsonlSink::stats`].
///
/// `written + lost + buffered` is every event the sink received. The
/// center's own counters ([`EventCenter::stats`]) count an event as
/// delivered once the sink has buffered it, and count one failure per
/// failed write, which may carry many events: `lost` says how many events
/// did not reach the file.
///
/// ```
/// let stats = event_center::JsonlStats::default();
/// assert_eq!(stats.written + stats.lost + stats.buffered, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonlStats {
    /// Events whose line reached the file.
    pub written: u64,
    /// Events whose line did not reach the file because of an error.
    pub lost: u64,
    /// Events buffered, not yet written.
    pub buffered: u64,
    /// Bytes written, all files together.
    pub bytes: u64,
    /// Open, write, fsync and rotation errors.
    pub errors: u64,
    /// Files rotated away.
    pub rotations: u64,
    /// Successful fsyncs.
    pub fsyncs: u64,
}

/// A JSONL file that could not be opened, written, rotated, synced or read:
/// names the path and says what to do.
///
/// ```
/// use event_center::{read_jsonl, JsonlErrorKind};
/// let err = read_jsonl("/nonexistent/events.jsonl").unwrap_err();
/// assert_eq!(err.kind(), &JsonlErrorKind::Read);
/// assert!(err.path().ends_with("events.jsonl"));
/// assert!(err.io_error().is_some());
/// ```
#[derive(Debug)]
pub struct JsonlError {
    path: PathBuf,
    kind: JsonlErrorKind,
    source: Option<io::Error>,
    lost: u64,
}

/// What failed; see [`JsonlError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonlErrorKind {
    /// The file or its directory could not be opened or created.
    Open,
    /// Writing lines failed (a full disk, a broken file).
    Write,
    /// The file could not be fsynced.
    Sync,
    /// The file could not be rotated (renamed or the oldest deleted); the
    /// sink keeps appending to the current file.
    Rotate,
    /// An event could not be serialized.
    Serialize,
    /// The file could not be read.
    Read,
    /// A builder option is out of range (says which).
    InvalidOption(&'static str),
}

impl JsonlError {
    pub(crate) fn new(path: &Path, kind: JsonlErrorKind, source: Option<io::Error>) -> Self {
        JsonlError {
            path: path.to_path_buf(),
            kind,
            source,
            lost: 0,
        }
    }

    fn with_lost(mut self, lost: u64) -> Self {
        self.lost = lost;
        self
    }

    /// The file's path.
    ///
    /// ```
    /// let err = event_center::read_jsonl("missing.jsonl").unwrap_err();
    /// assert_eq!(err.path(), std::path::Path::new("missing.jsonl"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What failed.
    ///
    /// ```
    /// use event_center::{read_jsonl, JsonlErrorKind};
    /// assert_eq!(read_jsonl("missing.jsonl").unwrap_err().kind(), &JsonlErrorKind::Read);
    /// ```
    pub fn kind(&self) -> &JsonlErrorKind {
        &self.kind
    }

    /// The operating system's error, if one caused it.
    ///
    /// ```
    /// let err = event_center::read_jsonl("missing.jsonl").unwrap_err();
    /// assert_eq!(err.io_error().unwrap().kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }

    /// How many events this error kept from the file (for write errors).
    ///
    /// ```
    /// assert_eq!(event_center::read_jsonl("missing.jsonl").unwrap_err().lost(), 0);
    /// ```
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

impl fmt::Display for JsonlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let cause = match &self.source {
            Some(e) => format!(": {e}"),
            None => String::new(),
        };
        match &self.kind {
            JsonlErrorKind::Open => write!(
                f,
                "cannot open JSONL file `{path}`{cause}: check that its directory can be created and written to"
            ),
            JsonlErrorKind::Write => write!(
                f,
                "cannot write to JSONL file `{path}`{cause}: {} event(s) lost; the sink reopens the file at its next write (free disk space or fix the path)",
                self.lost
            ),
            JsonlErrorKind::Sync => write!(
                f,
                "cannot fsync JSONL file `{path}`{cause}: written lines may not be on disk; the sink reopens the file at its next write"
            ),
            JsonlErrorKind::Rotate => write!(
                f,
                "cannot rotate JSONL file `{path}`{cause}: the sink keeps appending to it and tries again later (check the directory's permissions)"
            ),
            JsonlErrorKind::Serialize => write!(
                f,
                "cannot serialize an event for JSONL file `{path}`{cause}: the event was skipped"
            ),
            JsonlErrorKind::Read => write!(f, "cannot read JSONL file `{path}`{cause}"),
            JsonlErrorKind::InvalidOption(what) => {
                write!(f, "invalid JSONL sink option for `{path}`: {what}")
            }
        }
    }
}

impl std::error::Error for JsonlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
