//! The SQLite store: events keyed by `event_id` (a re-sent event is stored
//! once) with their JSON text and indexed columns, and the run records kept
//! up to date by each batch, in one transaction per batch; and the flow
//! definitions registered or declared by events (see `flows.rs`), which
//! retention never deletes.
//!
//! Events are indexed by run, type, level and time (each with the time, so
//! filtered lists come out in order). Their root and parent run ids are
//! stored but indexed on the runs table only, where the tree and descendant
//! queries look them up: two more event indexes cost ~15% of the ingest
//! rate and served no query.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::event::Event;
use crate::Redaction;

use super::error::{ServerError, ServerErrorKind};
use super::flows::{self, Flow};
use super::ingest::{parse_rust_events, NewEvent};
use super::runs::{RunRecord, RunStatus};

/// The database file inside the data directory.
const DB_FILE: &str = "observations.sqlite3";
/// Rows read per step when exporting or enforcing retention.
const PAGE: i64 = 1024;

/// The run columns, in [`RunRecord`] order.
pub(crate) const RUN_COLUMNS: &str = "run_id, root_run_id, parent_run_id, run_kind, agent_id, \
     agent_name, session_id, response_id, execution_id, status, latest_event_type, latest_source, \
     latest_message, started_at, updated_at, completed_at, failed_at, event_count, meta";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    level TEXT NOT NULL,
    run_id TEXT,
    root_run_id TEXT,
    parent_run_id TEXT,
    app_id TEXT,
    group_id TEXT,
    timestamp INTEGER NOT NULL,
    compact INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, timestamp);
CREATE INDEX IF NOT EXISTS events_by_type ON events (event_type, timestamp);
CREATE INDEX IF NOT EXISTS events_by_level ON events (level, timestamp);
CREATE INDEX IF NOT EXISTS events_by_time ON events (timestamp);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    root_run_id TEXT NOT NULL,
    parent_run_id TEXT,
    run_kind TEXT NOT NULL,
    agent_id TEXT,
    agent_name TEXT,
    session_id TEXT,
    response_id TEXT,
    execution_id TEXT,
    status TEXT NOT NULL,
    latest_event_type TEXT,
    latest_source TEXT,
    latest_message TEXT,
    started_at INTEGER,
    updated_at INTEGER,
    completed_at INTEGER,
    failed_at INTEGER,
    event_count INTEGER NOT NULL,
    meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_update ON runs (updated_at);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id);
CREATE INDEX IF NOT EXISTS runs_by_root ON runs (root_run_id);
CREATE TABLE IF NOT EXISTS flows (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    flow_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (app_id, group_id, flow_name)
) WITHOUT ROWID;
";

/// How much the store keeps: beyond a cap, the oldest events are deleted
/// (and runs left without events with them). Unlimited by default.
///
/// The byte cap counts the whole data directory: the database's pages in
/// use (events, runs, flow definitions, indexes) plus its write-ahead log.
/// A quarter of the cap is left to the log (checkpointed and truncated
/// whenever it passes that), the rest to the database, so the directory
/// stays within about the cap (the database file keeps the pages it freed
/// for reuse, and may pass it by about one transaction's worth).
///
/// ```
/// use event_center::Retention;
///
/// let keep = Retention::events(1_000_000).with_max_bytes(512 << 20);
/// assert_eq!(keep.max_events(), Some(1_000_000));
/// assert_eq!(keep.max_bytes(), Some(512 << 20));
/// assert_eq!(Retention::default().max_events(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    max_events: Option<u64>,
    max_bytes: Option<u64>,
}

impl Retention {
    /// Keeps everything (the default).
    ///
    /// ```
    /// assert_eq!(event_center::Retention::unlimited(), Default::default());
    /// ```
    pub fn unlimited() -> Self {
        Retention::default()
    }

    /// Keeps at most `max_events` events.
    ///
    /// ```
    /// assert_eq!(event_center::Retention::events(10).max_events(), Some(10));
    /// ```
    pub fn events(max_events: u64) -> Self {
        Retention::default().with_max_events(max_events)
    }

    /// Keeps the data directory (database and write-ahead log) within
    /// about `max_bytes`.
    ///
    /// ```
    /// assert_eq!(event_center::Retention::bytes(1 << 20).max_bytes(), Some(1 << 20));
    /// ```
    pub fn bytes(max_bytes: u64) -> Self {
        Retention::default().with_max_bytes(max_bytes)
    }

    /// Sets the event cap.
    ///
    /// ```
    /// let keep = event_center::Retention::bytes(1 << 20).with_max_events(5);
    /// assert_eq!((keep.max_events(), keep.max_bytes()), (Some(5), Some(1 << 20)));
    /// ```
    pub fn with_max_events(mut self, max_events: u64) -> Self {
        self.max_events = Some(max_events);
        self
    }

    /// Sets the byte cap.
    ///
    /// ```
    /// let keep = event_center::Retention::events(5).with_max_bytes(100);
    /// assert_eq!(keep.max_bytes(), Some(100));
    /// ```
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// The event cap, if any.
    ///
    /// ```
    /// assert_eq!(event_center::Retention::unlimited().max_events(), None);
    /// ```
    pub fn max_events(&self) -> Option<u64> {
        self.max_events
    }

    /// The byte cap, if any.
    ///
    /// ```
    /// assert_eq!(event_center::Retention::unlimited().max_bytes(), None);
    /// ```
    pub fn max_bytes(&self) -> Option<u64> {
        self.max_bytes
    }

    /// The share of the byte cap the write-ahead log may take.
    fn wal_share(&self) -> Option<u64> {
        self.max_bytes.map(|max| (max / 4).max(64 << 10))
    }

    /// The share of the byte cap the database's pages may take.
    fn db_share(&self) -> Option<u64> {
        self.max_bytes
            .zip(self.wal_share())
            .map(|(max, wal)| max.saturating_sub(wal))
    }
}

/// The observation server's event store, usable on its own: a SQLite
/// database in a directory, events ingested as the server's HTTP ingest
/// does (defaults filled, duplicates by `event_id` skipped, run records
/// updated) and exported in ingest order, one JSON text per event.
///
/// ```
/// use event_center::{Event, ObservationStore, RunContext};
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = ObservationStore::open(dir.path()).unwrap();
/// let run = RunContext::new("agent_execution");
/// let started = Event::new("agent.started").with_run(run.clone());
/// let events = vec![started.clone(), Event::new("agent.completed").with_run(run)];
/// assert_eq!(store.ingest(&events).unwrap(), 2);
/// assert_eq!(store.ingest(&[started]).unwrap(), 0); // already stored
///
/// let lines: Vec<String> = store.export().collect::<Result<_, _>>().unwrap();
/// let first = Event::parse(&lines[0]).unwrap();
/// assert_eq!(first.event_type, "agent.started");
/// assert_eq!(first.meta["app_id"], "default");
/// ```
pub struct ObservationStore {
    conn: Connection,
    retention: Retention,
    pub(super) redaction: Redaction,
    count: u64,
    bytes: u64,
}

impl std::fmt::Debug for ObservationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservationStore")
            .field("retention", &self.retention)
            .field("count", &self.count)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

/// The database file of a data directory.
pub(crate) fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}

/// How long a statement waits for a lock another connection holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens a connection with the store's settings (WAL, relaxed fsync).
pub(crate) fn connect(path: &Path) -> Result<Connection, ServerError> {
    let conn = Connection::open(path).map_err(|e| {
        ServerError::new(ServerErrorKind::DataDir, format!("{}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The default 4 KiB pages: 16 KiB ones took about 15% less CPU per
    // event stored but tripled the time a one-event commit takes to reach
    // the live streams (0.35 -> 1 ms).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

impl ObservationStore {
    /// Opens (creating as needed) the store in `data_dir`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = event_center::ObservationStore::open(dir.path().join("new/dir")).unwrap();
    /// assert_eq!(store.len(), 0);
    /// ```
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, ServerError> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            ServerError::new(ServerErrorKind::DataDir, format!("{}: {e}", dir.display()))
        })?;
        let conn = connect(&db_path(dir))?;
        conn.execute_batch(SCHEMA)?;
        Self::over(conn)
    }

    /// Caps what the store keeps, from its next ingest on.
    ///
    /// ```
    /// use event_center::{Event, ObservationStore, Retention};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = ObservationStore::open(dir.path()).unwrap().with_retention(Retention::events(2));
    /// let events: Vec<Event> = (0..5).map(|_| Event::new("tick")).collect();
    /// store.ingest(&events).unwrap();
    /// assert_eq!(store.len(), 2);
    /// ```
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Masks secrets in what [`ingest`](Self::ingest) and
    /// [`ingest_json`](Self::ingest_json) store with this redaction
    /// (default: [`Redaction::default`], as the server's ingest);
    /// [`Redaction::none`] stores events as given.
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// How many events the store holds.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = event_center::ObservationStore::open(dir.path()).unwrap();
    /// store.ingest(&[event_center::Event::new("x.y")]).unwrap();
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the store holds no event.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(event_center::ObservationStore::open(dir.path()).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Stores events as the HTTP ingest does (secrets masked, see
    /// [`with_redaction`](Self::with_redaction); without body defaults: a
    /// missing `meta.app_id` becomes `"default"`) and returns how many were
    /// new. An invalid event (an empty `event_type`) fails the whole call
    /// and stores nothing.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = event_center::ObservationStore::open(dir.path()).unwrap();
    /// let err = store.ingest(&[event_center::Event::new("")]).unwrap_err();
    /// assert!(err.to_string().contains("event_type"));
    /// ```
    pub fn ingest(&mut self, events: &[Event]) -> Result<usize, ServerError> {
        let events = parse_rust_events(events, &self.redaction)?;
        let declared = flows::declared_in(&events);
        let fresh = self.write(events, &declared)?;
        Ok(fresh.len())
    }

    /// Every stored event's JSON text, oldest first (one JSONL line each,
    /// ready for [`Event::parse`] or another store's ingest). Read in pages,
    /// so a large store is not loaded at once.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = event_center::ObservationStore::open(dir.path()).unwrap();
    /// assert_eq!(store.export().count(), 0);
    /// ```
    pub fn export(&self) -> StoreExport<'_> {
        StoreExport {
            conn: &self.conn,
            after: 0,
            page: VecDeque::new(),
            done: false,
        }
    }

    /// Leaves WAL checkpoints to the server's checkpoint thread (see
    /// `writer.rs`), so commits never wait for one, and gives the writer
    /// a 4 MiB page cache (a larger one made each commit slower: SQLite
    /// walks the whole cache at the end of a write transaction).
    pub(crate) fn for_server(self) -> Result<Self, ServerError> {
        self.conn
            .execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -4096;")?;
        Ok(self)
    }

    /// The size the write-ahead log is checkpointed and truncated at, when
    /// a byte cap sets it.
    pub(crate) fn wal_cap(&self) -> Option<u64> {
        self.retention.wal_share()
    }

    /// Whether no retention cap is set: the database grows without bound.
    pub(crate) fn keeps_everything(&self) -> bool {
        self.retention.max_events().is_none() && self.retention.max_bytes().is_none()
    }

    /// Stores a batch in one transaction; returns the events that were new,
    /// in order (duplicates of stored ids, or of earlier ones in the batch,
    /// are left out). The flows `declared` by new events are registered.
    pub(crate) fn write(
        &mut self,
        events: Vec<NewEvent>,
        declared: &flows::Declared,
    ) -> Result<Vec<NewEvent>, ServerError> {
        let tx = self.conn.transaction()?;
        let fresh = insert_events(&tx, events)?;
        update_runs(&tx, &fresh)?;
        flows::capture(&tx, &fresh, declared, crate::event::now_millis())?;
        let mut count = self.count + fresh.len() as u64;
        let mut bytes = self.bytes + fresh.iter().map(|e| e.json.len() as u64).sum::<u64>();
        enforce(&tx, self.retention, &mut count, &mut bytes)?;
        if let Some(max) = self.retention.db_share() {
            enforce_pages(&tx, max, &mut count, &mut bytes)?;
        }
        tx.commit()?;
        self.count = count;
        self.bytes = bytes;
        Ok(fresh)
    }

    /// Copies the whole write-ahead log into the database, on the writer's
    /// own connection between transactions (so it waits for no writer),
    /// and starts the log over: from the start of its file (`truncate`
    /// false: the file is reused) or an empty file. It does not wait for
    /// readers either: while one reads an older snapshot nothing is done
    /// (the caller tries again later) and the writes go on. Whether it was
    /// done.
    pub(crate) fn restart_log(&self, truncate: bool) -> Result<bool, ServerError> {
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let sql = if truncate {
            "PRAGMA wal_checkpoint(TRUNCATE)"
        } else {
            "PRAGMA wal_checkpoint(RESTART)"
        };
        let busy = self.conn.query_row(sql, [], |row| row.get::<_, i64>(0));
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(busy? == 0)
    }

    /// Stores (or replaces) a flow definition; returns its payload.
    pub(crate) fn register_flow(&mut self, flow: &Flow) -> Result<String, ServerError> {
        Ok(flows::save(&self.conn, flow, crate::event::now_millis())?)
    }

    /// A store over a connection whose schema is there (`open`, and
    /// `import.rs`'s read-only open).
    pub(super) fn over(conn: Connection) -> Result<Self, ServerError> {
        let (count, bytes) = conn.query_row(
            "SELECT count(*), coalesce(sum(bytes), 0) FROM events",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
        )?;
        Ok(ObservationStore {
            conn,
            retention: Retention::default(),
            redaction: Redaction::default(),
            count: count.max(0) as u64,
            bytes: bytes.max(0) as u64,
        })
    }
}

fn insert_events(tx: &Transaction<'_>, events: Vec<NewEvent>) -> rusqlite::Result<Vec<NewEvent>> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO events (event_id, event_type, source, level, run_id, root_run_id, \
         parent_run_id, app_id, group_id, timestamp, compact, bytes, json) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    let mut fresh = Vec::with_capacity(events.len());
    for event in events {
        let run = event.run.as_ref();
        let inserted = insert.execute(params![
            event.event_id,
            event.event_type,
            event.source,
            event.level.as_str(),
            run.map(|r| r.run_id.as_str()),
            run.map(|r| r.root_id()),
            run.and_then(|r| r.parent_run_id.as_deref()),
            event.app_id,
            event.group_id,
            event.timestamp,
            event.compact,
            event.json.len() as i64,
            event.json,
        ])?;
        if inserted == 1 {
            fresh.push(event);
        }
    }
    Ok(fresh)
}

/// Reads a run row selected with [`RUN_COLUMNS`].
pub(crate) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = row.get(9)?;
    let meta: String = row.get(18)?;
    Ok(RunRecord {
        run_id: row.get(0)?,
        root_run_id: row.get(1)?,
        parent_run_id: row.get(2)?,
        run_kind: row.get(3)?,
        agent_id: row.get(4)?,
        agent_name: row.get(5)?,
        session_id: row.get(6)?,
        response_id: row.get(7)?,
        execution_id: row.get(8)?,
        status: RunStatus::parse(&status).unwrap_or_default(),
        latest_event_type: row.get(10)?,
        latest_source: row.get(11)?,
        latest_message: row.get(12)?,
        started_at: row.get(13)?,
        updated_at: row.get(14)?,
        completed_at: row.get(15)?,
        failed_at: row.get(16)?,
        event_count: row.get(17)?,
        meta: serde_json::from_str(&meta).unwrap_or_default(),
    })
}

/// Applies the new events to their runs' records: each touched record is
/// read once, updated in memory and written once.
fn update_runs(tx: &Transaction<'_>, events: &[NewEvent]) -> rusqlite::Result<()> {
    let mut select =
        tx.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"))?;
    let mut touched: Vec<RunRecord> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for event in events {
        let Some(run) = &event.run else { continue };
        let slot = match index.get(&run.run_id) {
            Some(&slot) => slot,
            None => {
                let stored = select.query_row([&run.run_id], run_from_row).optional()?;
                let Some(record) = stored.or_else(|| RunRecord::first(event)) else {
                    continue;
                };
                index.insert(run.run_id.clone(), touched.len());
                touched.push(record);
                touched.len() - 1
            }
        };
        touched[slot].apply(event);
    }
    let mut upsert = tx.prepare_cached(&format!(
        "INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
         ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) ON CONFLICT (run_id) DO UPDATE SET \
         agent_id = excluded.agent_id, agent_name = excluded.agent_name, \
         session_id = excluded.session_id, response_id = excluded.response_id, \
         execution_id = excluded.execution_id, status = excluded.status, \
         latest_event_type = excluded.latest_event_type, latest_source = excluded.latest_source, \
         latest_message = excluded.latest_message, updated_at = excluded.updated_at, \
         completed_at = excluded.completed_at, failed_at = excluded.failed_at, \
         event_count = excluded.event_count, meta = excluded.meta"
    ))?;
    for r in &touched {
        let meta = serde_json::to_string(&r.meta).unwrap_or_else(|_| "{}".to_owned());
        upsert.execute(params![
            r.run_id,
            r.root_run_id,
            r.parent_run_id,
            r.run_kind,
            r.agent_id,
            r.agent_name,
            r.session_id,
            r.response_id,
            r.execution_id,
            r.status.as_str(),
            r.latest_event_type,
            r.latest_source,
            r.latest_message,
            r.started_at,
            r.updated_at,
            r.completed_at,
            r.failed_at,
            r.event_count,
            meta,
        ])?;
    }
    Ok(())
}

/// Deletes the oldest events while the event cap is exceeded, and keeps
/// the runs' event counts right (a run left with no event is deleted).
fn enforce(
    tx: &Transaction<'_>,
    retention: Retention,
    count: &mut u64,
    bytes: &mut u64,
) -> rusqlite::Result<()> {
    if let Some(max) = retention.max_events() {
        if *count > max {
            delete_oldest(tx, *count - max, count, bytes)?;
        }
    }
    Ok(())
}

/// The bytes of the database's pages in use (not on the free list).
fn pages_in_use(tx: &Transaction<'_>) -> rusqlite::Result<u64> {
    let pragma = |name: &str| {
        tx.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    Ok(pragma("page_count")?.saturating_sub(pragma("freelist_count")?) * pragma("page_size")?)
}

/// Deletes the oldest events while the database's pages in use take more
/// than `max` bytes: as many as their average size says, a few rounds at
/// most (a page is freed only once all its rows are gone).
fn enforce_pages(
    tx: &Transaction<'_>,
    max: u64,
    count: &mut u64,
    bytes: &mut u64,
) -> rusqlite::Result<()> {
    for _ in 0..8 {
        let used = pages_in_use(tx)?;
        if used <= max || *count == 0 {
            break;
        }
        let per_event = (used / *count).max(1);
        let excess = (used - max).div_ceil(per_event).max(1);
        // A little more than the average says: rows share pages.
        let n = (excess + excess / 8 + 1).min(*count);
        delete_oldest(tx, n, count, bytes)?;
    }
    Ok(())
}

/// Deletes the `n` oldest events and their runs' counts.
fn delete_oldest(
    tx: &Transaction<'_>,
    n: u64,
    count: &mut u64,
    bytes: &mut u64,
) -> rusqlite::Result<()> {
    let mut select = tx.prepare_cached(
        "SELECT seq, run_id, bytes FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut removed: HashMap<String, i64> = HashMap::new();
    let mut last = 0i64;
    let mut left = n;
    'pages: loop {
        let mut rows = select.query(params![last, PAGE])?;
        let mut any = false;
        while let Some(row) = rows.next()? {
            if left == 0 {
                break 'pages;
            }
            any = true;
            left -= 1;
            last = row.get(0)?;
            if let Some(run_id) = row.get::<_, Option<String>>(1)? {
                *removed.entry(run_id).or_default() += 1;
            }
            *count = count.saturating_sub(1);
            *bytes = bytes.saturating_sub(row.get::<_, i64>(2)?.max(0) as u64);
        }
        if !any {
            break;
        }
    }
    tx.prepare_cached("DELETE FROM events WHERE seq <= ?1")?
        .execute([last])?;
    let mut shrink =
        tx.prepare_cached("UPDATE runs SET event_count = event_count - ?2 WHERE run_id = ?1")?;
    let mut drop_empty =
        tx.prepare_cached("DELETE FROM runs WHERE run_id = ?1 AND event_count <= 0")?;
    for (run_id, n) in removed {
        shrink.execute(params![run_id, n])?;
        drop_empty.execute([run_id])?;
    }
    Ok(())
}

/// The stored events' JSON texts, oldest first; see
/// [`ObservationStore::export`].
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = event_center::ObservationStore::open(dir.path()).unwrap();
/// store.ingest(&[event_center::Event::new("a.b")]).unwrap();
/// let mut export = store.export();
/// assert!(export.next().unwrap().unwrap().contains("\"a.b\""));
/// assert!(export.next().is_none());
/// ```
pub struct StoreExport<'a> {
    conn: &'a Connection,
    after: i64,
    page: VecDeque<String>,
    done: bool,
}

impl std::fmt::Debug for StoreExport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreExport")
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl StoreExport<'_> {
    fn fill(&mut self) -> rusqlite::Result<()> {
        let mut select = self
            .conn
            .prepare_cached("SELECT seq, json FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let mut rows = select.query(params![self.after, PAGE])?;
        while let Some(row) = rows.next()? {
            self.after = row.get(0)?;
            self.page.push_back(row.get(1)?);
        }
        self.done = self.page.is_empty();
        Ok(())
    }
}

impl Iterator for StoreExport<'_> {
    type Item = Result<String, ServerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() && !self.done {
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(e.into()));
            }
        }
        self.page.pop_front().map(Ok)
    }
}
