//! The storage thread every write goes through, and the checkpoints of
//! its write-ahead log.
//!
//! The storage thread stores a batch in one transaction when it is at most
//! a chunk (1,000 events and 1 MiB of JSON), else a chunk per transaction,
//! serving the other clients' small batches between chunks (so a one-event
//! ingest waits for about one chunk, not for a whole 8 MiB batch). A large
//! batch is answered once all its chunks are committed; a crash in between
//! leaves a prefix of it stored, and the client, which got no answer, sends
//! it again: the events already stored are skipped, since events are
//! deduplicated by `event_id` (events sent without one get a new id each
//! time, so a client that retries should give them ids).
//!
//! The storage thread's queue is bounded by the in-flight memory budget
//! (see `budget.rs`): an HTTP request holds its share until its batch is
//! committed and published, and no batch is queued without one.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::error::{ServerError, ServerErrorKind};
use super::feed::Feed;
use super::flows::{declared_in, Declared, Flow};
use super::ingest::NewEvent;
use super::store::{connect, ObservationStore};

/// How often the write-ahead log is copied into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// How often the storage thread looks at the log file's size.
const LOOK_EVERY: Duration = Duration::from_millis(20);
/// The most events the storage thread stores in one transaction.
const CHUNK_EVENTS: usize = 1000;
/// The most bytes of event JSON it stores in one transaction (a larger
/// event is a transaction of its own).
const CHUNK_BYTES: usize = 1 << 20;
/// Whole small jobs served in a row while a large batch waits for its next
/// chunk.
const SMALL_RUN: usize = 64;
/// The write-ahead log may grow to the database's size, or this much when
/// the database is smaller, before it starts over (unless a byte cap sets
/// its share)...
const WAL_FLOOR: u64 = 8 << 20;
/// ...or this much when no retention cap is set (the database grows
/// anyway): one-event commits write about 40 KB of log each and fill 8 MiB
/// in a tenth of a second; truncating the log that often (as this server
/// did before it reused the file) made each such commit about 40% slower.
const WAL_FLOOR_UNBOUNDED: u64 = 64 << 20;

/// The answer to a write: how many events were new, once all committed.
type Reply = Box<dyn FnOnce(Result<usize, ServerError>) + Send>;

enum Job {
    Write {
        events: Vec<NewEvent>,
        declared: Declared,
        reply: Reply,
    },
    RegisterFlow {
        flow: Flow,
        reply: oneshot::Sender<Result<String, ServerError>>,
    },
    Stop,
}

/// A batch larger than one chunk, stored a chunk at a time.
struct Large {
    events: VecDeque<NewEvent>,
    declared: Declared,
    stored: usize,
    reply: Reply,
}

/// Whether a batch is stored in one transaction.
fn fits_one_chunk(events: &[NewEvent]) -> bool {
    events.len() <= 1
        || (events.len() <= CHUNK_EVENTS
            && events.iter().map(|e| e.json.len()).sum::<usize>() <= CHUNK_BYTES)
}

/// The next chunk of a large batch: up to [`CHUNK_EVENTS`] events and
/// [`CHUNK_BYTES`] of JSON, at least one event.
fn next_chunk(events: &mut VecDeque<NewEvent>) -> Vec<NewEvent> {
    let mut bytes = 0;
    let mut take = 0;
    for event in events.iter().take(CHUNK_EVENTS) {
        bytes += event.json.len();
        if take > 0 && bytes > CHUNK_BYTES {
            break;
        }
        take += 1;
    }
    events.drain(..take).collect()
}

/// The jobs the storage thread has taken from its queue: whole small ones
/// first, in order, and the large batches in turns of one chunk, so that a
/// small ingest waits for at most about one chunk of a large one.
#[derive(Default)]
struct Queue {
    small: VecDeque<Job>,
    large: VecDeque<Large>,
    stopping: bool,
    small_run: usize,
}

impl Queue {
    fn take(&mut self, job: Job) {
        match job {
            Job::Stop => self.stopping = true,
            Job::Write {
                events,
                declared,
                reply,
            } if !fits_one_chunk(&events) => self.large.push_back(Large {
                events: events.into(),
                declared,
                stored: 0,
                reply,
            }),
            job => self.small.push_back(job),
        }
    }

    fn is_empty(&self) -> bool {
        self.small.is_empty() && self.large.is_empty()
    }
}

/// The storage thread: it owns the write connection, stores each batch
/// (in transactions of at most a chunk), then publishes the new events to
/// the streams; flow definitions are stored there too.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The storage thread's state.
struct Storage {
    store: ObservationStore,
    feed: Arc<Feed>,
    log: Log,
    /// The log file's size when last looked at, and when that was.
    log_size: u64,
    looked: Instant,
    checkpoint: mpsc::SyncSender<()>,
}

/// The write-ahead log's files and cap, and the hand-off of its
/// restart between the checkpoint thread and the storage thread.
#[derive(Clone)]
struct Log {
    db: PathBuf,
    wal: PathBuf,
    cap: Option<u64>,
    floor: u64,
    /// Set by the checkpoint thread when the log is to start over, done by
    /// the storage thread before its next transaction.
    restart: Arc<AtomicBool>,
    /// Transactions the storage thread began (the checkpoint thread sees
    /// from it whether the storage thread is idle).
    writes: Arc<AtomicU64>,
}

impl Log {
    fn new(db: PathBuf, cap: Option<u64>, floor: u64) -> Self {
        Log {
            wal: wal_path(&db),
            db,
            cap,
            floor,
            restart: Arc::new(AtomicBool::new(false)),
            writes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The most the log may hold: `cap`, else the database's size, at
    /// least its floor ([`WAL_FLOOR`] or [`WAL_FLOOR_UNBOUNDED`]).
    fn cap(&self) -> u64 {
        self.cap
            .unwrap_or_else(|| file_size(&self.db).max(self.floor))
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

impl Storage {
    fn serve(&mut self, queue: &mpsc::Receiver<Job>) {
        let mut jobs = Queue::default();
        loop {
            if jobs.is_empty() {
                if jobs.stopping {
                    break;
                }
                match queue.recv() {
                    Ok(job) => jobs.take(job),
                    Err(_) => break,
                }
            }
            while let Ok(job) = queue.try_recv() {
                jobs.take(job);
            }
            let small_turn = jobs.large.is_empty() || jobs.small_run < SMALL_RUN;
            let small = if small_turn {
                jobs.small.pop_front()
            } else {
                None
            };
            match small {
                Some(job) => {
                    jobs.small_run += 1;
                    self.run(job);
                }
                None => {
                    jobs.small_run = 0;
                    if let Some(mut large) = jobs.large.pop_front() {
                        let chunk = next_chunk(&mut large.events);
                        match self.write(chunk, &large.declared) {
                            Err(error) => (large.reply)(Err(error)),
                            Ok(stored) if large.events.is_empty() => {
                                (large.reply)(Ok(large.stored + stored))
                            }
                            Ok(stored) => {
                                large.stored += stored;
                                jobs.large.push_back(large);
                            }
                        }
                    }
                }
            }
        }
        self.feed.close();
    }

    fn run(&mut self, job: Job) {
        match job {
            Job::Write {
                events,
                declared,
                reply,
            } => reply(self.write(events, &declared)),
            Job::RegisterFlow { flow, reply } => {
                let _ = reply.send(self.store.register_flow(&flow));
            }
            Job::Stop => {}
        }
    }

    /// Stores one transaction's events and publishes the new ones; first
    /// starts the log over when the checkpoint thread asked for it, or wakes
    /// that thread when the log's file grew past its cap.
    fn write(&mut self, events: Vec<NewEvent>, declared: &Declared) -> Result<usize, ServerError> {
        self.log.writes.fetch_add(1, Ordering::Relaxed);
        if self.log.restart.load(Ordering::Acquire) {
            // Not done while a reader holds an older snapshot: tried again
            // before the next transaction.
            if self.store.restart_log(false).unwrap_or(false) {
                self.log.restart.store(false, Ordering::Release);
            }
        } else if self.looked.elapsed() >= LOOK_EVERY {
            // A file that grew past the cap is being appended to, not reused
            // from its start: the checkpoint thread looks now. At twice the
            // cap the disk bound comes first: truncated here and now.
            let (size, cap) = (file_size(&self.log.wal), self.log.cap());
            if size > cap.saturating_mul(2) && self.store.restart_log(true).unwrap_or(false) {
                self.log.restart.store(false, Ordering::Release);
            } else if size > self.log_size && size > cap {
                let _ = self.checkpoint.try_send(());
            }
            self.log_size = size;
            self.looked = Instant::now();
        }
        let fresh = self.store.write(events, declared)?;
        let stored = fresh.len();
        self.feed.publish(fresh);
        Ok(stored)
    }
}

impl Writer {
    pub(crate) fn spawn(
        store: ObservationStore,
        path: PathBuf,
        feed: Arc<Feed>,
    ) -> Result<(Writer, JoinHandle<()>), ServerError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let floor = if store.keeps_everything() {
            WAL_FLOOR_UNBOUNDED
        } else {
            WAL_FLOOR
        };
        let log = Log::new(path, store.wal_cap(), floor);
        let thread = std::thread::Builder::new()
            .name("observation-store".to_owned())
            .spawn(move || {
                let (checkpoint, wanted) = mpsc::sync_channel::<()>(1);
                let mut storage = Storage {
                    store,
                    feed,
                    log: log.clone(),
                    log_size: 0,
                    looked: Instant::now(),
                    checkpoint,
                };
                let checkpointer = std::thread::Builder::new()
                    .name("observation-checkpoint".to_owned())
                    .spawn(move || checkpoint_until(&log, &wanted))
                    .ok();
                storage.serve(&queue);
                drop(storage);
                if let Some(checkpointer) = checkpointer {
                    let _ = checkpointer.join();
                }
            })
            .map_err(|e| ServerError::new(ServerErrorKind::Runtime, e.to_string()))?;
        Ok((Writer { jobs }, thread))
    }

    /// Stores a batch and registers the flows it declares (read with
    /// [`declared_in`]); resolves once all of it is committed (a large
    /// batch is committed a chunk at a time: see the module docs).
    pub(crate) async fn write(
        &self,
        events: Vec<NewEvent>,
        declared: Declared,
    ) -> Result<usize, ServerError> {
        let (tx, rx) = oneshot::channel();
        self.send(events, declared, move |result| {
            let _ = tx.send(result);
        })?;
        rx.await.map_err(|_| ServerError::stopped())?
    }

    /// Stores a batch; returns once it is committed.
    pub(crate) fn write_blocking(&self, events: Vec<NewEvent>) -> Result<usize, ServerError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let declared = declared_in(&events);
        self.send(events, declared, move |result| {
            let _ = tx.send(result);
        })?;
        rx.recv().map_err(|_| ServerError::stopped())?
    }

    /// Queues a batch for the storage thread, with what to do with its
    /// result.
    fn send(
        &self,
        events: Vec<NewEvent>,
        declared: Declared,
        reply: impl FnOnce(Result<usize, ServerError>) + Send + 'static,
    ) -> Result<(), ServerError> {
        self.jobs
            .send(Job::Write {
                events,
                declared,
                reply: Box::new(reply),
            })
            .map_err(|_| ServerError::stopped())
    }

    /// Stores a flow definition; resolves to its payload once committed.
    pub(crate) async fn register_flow(&self, flow: Flow) -> Result<String, ServerError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::RegisterFlow { flow, reply })
            .map_err(|_| ServerError::stopped())?;
        rx.await.map_err(|_| ServerError::stopped())?
    }

    pub(crate) fn stop(&self) {
        let _ = self.jobs.send(Job::Stop);
    }
}

/// The write-ahead log beside a database.
fn wal_path(db: &std::path::Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Copies the write-ahead log into the database every 200 ms (passive
/// checkpoints: the storage thread never waits for them), and once more
/// when the storage thread ends.
///
/// A passive checkpoint never copies all of a log written to without
/// pause, so the log would only grow. When its frames pass its cap (see
/// [`Log::cap`]), this thread writes the database's dirty pages to disk
/// (holding no lock), catches up with a passive checkpoint, and hands the
/// rest to the storage thread, which, before its next transaction, copies
/// what is left and starts the log over from the start of its file (the
/// file is reused: cutting it, with a truncating checkpoint or SQLite's
/// `journal_size_limit`, made the commits after it grow the file again page
/// by page, about 20% slower each). A checkpoint that must exclude the
/// writer, run from this thread, waited in the busy handler's growing
/// sleeps for a gap between two transactions of a busy storage thread (up
/// to a second, the log growing all the while), then copied everything at
/// once. The file itself is truncated after a round without writes, and by
/// the storage thread at once when it passes twice the cap.
fn checkpoint_until(log: &Log, wanted: &mpsc::Receiver<()>) {
    let Ok(conn) = connect(&log.db) else { return };
    let frame = conn
        .query_row("PRAGMA page_size", [], |row| row.get::<_, u32>(0))
        .map_or(4096, u64::from)
        + 24;
    // The bytes of the log's frames (since it last started over).
    let passive = || {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        })
        .map_or(0, |frames| u64::try_from(frames).unwrap_or(0) * frame)
    };
    let truncate = || conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    let mut writes = log.writes.load(Ordering::Relaxed);
    while let Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) = wanted.recv_timeout(CHECKPOINT_EVERY)
    {
        let before = std::mem::replace(&mut writes, log.writes.load(Ordering::Relaxed));
        if log.restart.load(Ordering::Acquire) && writes != before {
            // Handed over and not done yet: a checkpoint here would only
            // make the storage thread's attempt fail.
            continue;
        }
        let held = passive();
        if writes == before {
            // Nothing written for a round: no writer to wait for.
            if file_size(&log.wal) > log.cap() {
                let _ = truncate();
            }
            log.restart.store(false, Ordering::Release);
        } else if held > log.cap() {
            if let Ok(db) = std::fs::File::open(&log.db) {
                let _ = db.sync_data();
            }
            passive();
            log.restart.store(true, Ordering::Release);
        } else {
            log.restart.store(false, Ordering::Release);
        }
    }
    let _ = truncate();
}
