//! The JSONL file sink: one Agently-shaped event per line, written by the
//! hook's background worker, with size-based rotation, an fsync policy and
//! a flush-on-drop guard; and the reader that loads such a file back.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::delivery::{Delivery, Overflow, DEFAULT_CAPACITY};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::sinks::registration::{SinkEnd, DEFAULT_FLUSH_TIMEOUT};

mod builder;
mod error;
mod guard;
mod reader;
mod writer;

pub use builder::JsonlSinkBuilder;
pub use error::{JsonlError, JsonlErrorKind};
pub use guard::JsonlGuard;
pub use reader::{read_jsonl, BadLine, JsonlRead};

use writer::FileWriter;

#[cfg(doc)]
use crate::center::EventCenter;

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
    /// On an explicit flush ([`JsonlGuard::flush`]), at shutdown (or when
    /// the guard is dropped) and before a file is rotated away.
    #[default]
    OnFlush,
}

/// A file sink: writes each event it receives as one line of Agently's
/// event JSON (what [`Event`] serializes to, read back by [`read_jsonl`] or
/// [`Event::parse`]).
///
/// [`JsonlSink::builder`] sets it up and
/// [`register`](JsonlSinkBuilder::register) registers it on a center as a
/// background hook and returns the [`JsonlGuard`], the sink's only handle:
/// the emitter only queues the event, and the hook's worker serializes it
/// into a buffer, which is written to the file in blocks, when the events
/// stop for a moment (see
/// [`with_flush_interval`](JsonlSinkBuilder::with_flush_interval)) and on
/// a flush. Keep the guard alive: dropping it flushes and closes the sink.
///
/// Write errors (a full disk, a file that cannot be reopened) never panic
/// and never reach the emitter: the hook returns a [`JsonlError`], so the
/// center counts it as failed and reports it as `event_center.hook_failed`;
/// the events that did not reach the file are counted in
/// [`JsonlStats::lost`]; the sink reopens the file at its next write and
/// goes on.
///
/// ```
/// use event_center::{read_jsonl, EventCenter, JsonlSink};
///
/// let dir = std::env::temp_dir().join(format!("jsonl-sink-{}", std::process::id()));
/// let path = dir.join("events.jsonl");
/// let center = EventCenter::new();
/// let guard = JsonlSink::builder(&path).register(&center, "jsonl")?;
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
pub struct JsonlSink {
    shared: Arc<Shared>,
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
                        writer.flush_outside_hook(false);
                    }
                };
            }
        });
}

impl fmt::Debug for JsonlSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlSink")
            .field("path", &self.shared.path)
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
}

impl Hook for JsonlSink {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        Ok(self.shared.lock().append(event)?)
    }
}

impl SinkEnd for JsonlSink {
    fn flush_own(&self, _deadline: Instant) {
        self.shared.lock().flush_outside_hook(true);
    }

    fn close(&self, _deadline: Instant) {
        self.shared.lock().close();
        self.shared.stop.stop();
    }
}

/// A JSONL sink's counters; see [`JsonlGuard::stats`].
///
/// `written + lost + buffered` is every event the sink received. The
/// center's own counters (the guard's [`FlushReport`](crate::FlushReport),
/// [`EventCenter::stats`]) count an event as delivered once the sink has
/// buffered it, and count one failure per failed write, which may carry
/// many events: `lost` says how many events did not reach the file.
///
/// ```
/// let stats = event_center::JsonlStats::default();
/// assert_eq!(stats.written + stats.lost + stats.buffered, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// The message of the last error (a [`JsonlError`]'s), if any.
    pub last_error: Option<String>,
}
