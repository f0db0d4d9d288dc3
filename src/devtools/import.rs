//! The store's JSON side doors: events given as JSON texts (a JSONL
//! import) go through the HTTP ingest's own parser, so an import takes back
//! exactly what ingest accepted and export wrote, under the same limits;
//! and the store opened for reading only (an export from a directory the
//! process may not write, or that a running server holds).

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::{ServerError, ServerErrorKind};
use super::ingest::{parse_events, Defaults, Element};
use super::server::DEFAULT_BODY_LIMIT;
use super::store::{db_path, ObservationStore};

/// The longest JSON text of one event: the server's default body limit, so
/// an import refuses what the default ingest would.
pub(crate) const MAX_EVENT_TEXT: usize = DEFAULT_BODY_LIMIT;

/// What [`ObservationStore::ingest_json`] did with a list of JSON texts.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = event_center::ObservationStore::open(dir.path()).unwrap();
/// let done = store.ingest_json(&[r#"{"event_type": "a.b"}"#]).unwrap();
/// assert_eq!((done.new, done.duplicates, done.refused.len()), (1, 0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonIngest {
    /// Events stored for the first time.
    pub new: usize,
    /// Valid events already stored (or given twice), not stored again.
    pub duplicates: usize,
    /// The texts that are not storable events, in input order; the others
    /// were stored.
    pub refused: Vec<RefusedText>,
}

/// A text [`ObservationStore::ingest_json`] refused: its position in the
/// list, what kind of fault it has, and a message naming it.
///
/// ```
/// use event_center::{ObservationStore, TextFault};
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = ObservationStore::open(dir.path()).unwrap();
/// let done = store.ingest_json(&[r#"{"event_type": ""}"#]).unwrap();
/// let refused = &done.refused[0];
/// assert_eq!(refused.index, 0);
/// assert_eq!(refused.fault, TextFault::InvalidEvent { field: "event_type".into() });
/// assert!(refused.to_string().contains("must not be empty"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedText {
    /// Its position in the list given, from 0.
    pub index: usize,
    /// What is wrong with it.
    pub fault: TextFault,
    /// What is wrong with it, in words.
    pub message: String,
}

impl fmt::Display for RefusedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RefusedText {}

/// Why a JSON text is not a storable event; see [`RefusedText`].
///
/// ```
/// use event_center::{ObservationStore, TextFault};
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = ObservationStore::open(dir.path()).unwrap();
/// let texts: [&[u8]; 3] = [b"\0\0", b"{\"event_ty", b"nope"];
/// let done = store.ingest_json(&texts).unwrap();
/// let faults: Vec<&TextFault> = done.refused.iter().map(|r| &r.fault).collect();
/// assert_eq!(faults, [&TextFault::NotText, &TextFault::EndsEarly, &TextFault::NotJson]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextFault {
    /// Longer than the server's default body limit (8 MiB).
    TooLong,
    /// Not UTF-8 text, or holding NUL bytes: binary data.
    NotText,
    /// Blank, or JSON with a syntax error.
    NotJson,
    /// JSON that stops before it is complete: a line cut short.
    EndsEarly,
    /// JSON that is not a valid event (as the HTTP ingest would answer
    /// 422).
    InvalidEvent {
        /// The dotted path of the bad field (`event_type`, `run.run_id`),
        /// or `event` for the whole.
        field: String,
    },
}

/// A text refused before it reached the ingest parser.
type Refusal = (TextFault, String);

/// Reads one text as an event's JSON, as the HTTP ingest reads each element
/// of `events`.
fn element(text: &[u8]) -> Result<Element<'_>, Refusal> {
    if text.len() > MAX_EVENT_TEXT {
        return Err((
            TextFault::TooLong,
            format!(
                "is longer than {MAX_EVENT_TEXT} bytes, the server's default body limit: an \
                 event this large is refused by ingest too"
            ),
        ));
    }
    if text.contains(&0) {
        let nuls = text.iter().filter(|&&b| b == 0).count();
        let plural = if nuls == 1 { "" } else { "s" };
        return Err((
            TextFault::NotText,
            format!("holds {nuls} NUL byte{plural}: binary data, not JSON text"),
        ));
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        (
            TextFault::NotText,
            format!("is not UTF-8 text ({e}); JSON must be encoded as UTF-8"),
        )
    })?;
    if text.trim_ascii().is_empty() {
        return Err((
            TextFault::NotJson,
            "is blank: an event is one JSON object".to_owned(),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            (
                TextFault::EndsEarly,
                format!("is JSON that stops before it is complete ({e}): it was cut short"),
            )
        } else {
            (TextFault::NotJson, format!("is not valid JSON: {e}"))
        }
    })
}

impl ObservationStore {
    /// Stores events given as JSON texts (the lines of a JSONL file, such as
    /// [`export`](Self::export) writes), each read by the HTTP ingest's own
    /// parser with its limits: what ingest accepts is stored as ingest
    /// stores it (unknown fields kept, payload, meta and extra fields as
    /// written), so export, then import into another store, then export
    /// again gives the same text. A text that is not a storable event is
    /// refused on its own, with its index and why; the others are stored in
    /// one transaction. Events already stored (by `event_id`) are counted,
    /// not stored again. Secrets are masked as
    /// [`with_redaction`](Self::with_redaction) says (by default as the
    /// server's ingest masks them); masking an already masked value changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// A [`ServerError`] of kind [`Storage`](ServerErrorKind::Storage) when
    /// SQLite cannot write the batch (nothing of it is stored then).
    ///
    /// ```
    /// use event_center::{ObservationStore, TextFault};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = ObservationStore::open(dir.path()).unwrap();
    /// let line = r#"{"event_id":"e1","event_type":"a.b","payload":{"z":1e2,"a":123456789012345678901234567890},"seq":0}"#;
    /// let done = store.ingest_json(&[line, "not json", line]).unwrap();
    /// assert_eq!((done.new, done.duplicates), (1, 1));
    /// assert_eq!(done.refused[0].index, 1);
    /// assert_eq!(done.refused[0].fault, TextFault::NotJson);
    ///
    /// let stored = store.export().next().unwrap().unwrap();
    /// assert!(stored.contains(r#""payload":{"z":1e2,"a":123456789012345678901234567890}"#));
    /// assert!(stored.ends_with(r#","seq":0}"#));
    /// ```
    pub fn ingest_json<T: AsRef<[u8]>>(&mut self, texts: &[T]) -> Result<JsonIngest, ServerError> {
        let mut refused = Vec::new();
        let mut elements = Vec::with_capacity(texts.len());
        let mut origins = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            match element(text.as_ref()) {
                Ok(element) => {
                    elements.push(element);
                    origins.push(index);
                }
                Err((fault, message)) => refused.push(RefusedText {
                    index,
                    fault,
                    message: format!("the text {message}"),
                }),
            }
        }
        let batch = parse_events(elements, &Defaults::default(), &self.redaction);
        let any_invalid = !batch.rejected.is_empty();
        for (at, error) in batch.rejected {
            refused.push(RefusedText {
                index: origins[at],
                fault: TextFault::InvalidEvent {
                    field: error.event_field(),
                },
                message: error.msg,
            });
        }
        if any_invalid {
            refused.sort_by_key(|r| r.index);
        }
        let accepted = batch.events.len();
        let new = if accepted == 0 {
            0
        } else {
            let declared = super::flows::declared_in(&batch.events);
            self.write(batch.events, &declared)?.len()
        };
        Ok(JsonIngest {
            new,
            duplicates: accepted - new,
            refused,
        })
    }

    /// Opens the store in `data_dir` for reading only: nothing is created
    /// or written, so it works on a read-only directory (a backup, a
    /// mounted snapshot) and beside a server running on the directory.
    /// Any write ([`ingest`](Self::ingest)) fails.
    ///
    /// A store that a server left cleanly has no write-ahead log; in a
    /// directory it may not write, SQLite could not create the files it
    /// reads a log with, so such a store is opened as immutable. A log left
    /// by a running or killed server is read through its existing shared
    /// memory file.
    ///
    /// # Errors
    ///
    /// A [`ServerError`] of kind [`DataDir`](ServerErrorKind::DataDir)
    /// when the directory holds no store, or of kind
    /// [`Storage`](ServerErrorKind::Storage) when SQLite cannot read it.
    ///
    /// ```
    /// use event_center::ObservationStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(ObservationStore::open_read_only(dir.path()).is_err()); // no store yet
    /// ObservationStore::open(dir.path()).unwrap().ingest_json(&[r#"{"event_type":"a"}"#]).unwrap();
    /// let store = ObservationStore::open_read_only(dir.path()).unwrap();
    /// assert_eq!(store.len(), 1);
    /// assert!(store.export().next().unwrap().unwrap().contains(r#""event_type":"a""#));
    /// ```
    pub fn open_read_only(data_dir: impl AsRef<Path>) -> Result<Self, ServerError> {
        let dir = data_dir.as_ref();
        let path = db_path(dir);
        if !path.is_file() {
            return Err(ServerError::new(
                ServerErrorKind::DataDir,
                format!(
                    "{} holds no store (no {} in it): it is not a directory that a server \
                     or an import wrote",
                    dir.display(),
                    path.file_name().map_or_else(
                        || path.display().to_string(),
                        |name| name.to_string_lossy().into_owned()
                    )
                ),
            ));
        }
        let first = read_only(&path, false).and_then(ObservationStore::over);
        match first {
            Ok(store) => Ok(store),
            Err(error) if !has_log(&path) => read_only(&path, true)
                .and_then(ObservationStore::over)
                .map_err(|_| error),
            Err(error) => Err(error),
        }
    }
}

/// A read-only connection to the database at `path`; `immutable` tells
/// SQLite that nothing changes it (no log, no locks).
fn read_only(path: &Path, immutable: bool) -> Result<Connection, ServerError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let unusable = |e: rusqlite::Error| {
        ServerError::new(ServerErrorKind::Storage, format!("{}: {e}", path.display()))
    };
    let conn = if immutable {
        Connection::open_with_flags(uri(path, "immutable=1")?, flags)
    } else {
        Connection::open_with_flags(path, flags)
    }
    .map_err(unusable)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(unusable)?;
    conn.execute_batch("PRAGMA query_only = ON;")
        .map_err(unusable)?;
    Ok(conn)
}

/// `file:PATH?QUERY`, the path escaped as SQLite's URIs want.
fn uri(path: &Path, query: &str) -> Result<String, ServerError> {
    let text = path.to_str().ok_or_else(|| {
        ServerError::new(
            ServerErrorKind::DataDir,
            format!(
                "{} is not UTF-8; move the store to a UTF-8 path to read it",
                path.display()
            ),
        )
    })?;
    let mut uri = String::with_capacity(text.len() + 16);
    uri.push_str("file:");
    for c in text.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            _ => uri.push(c),
        }
    }
    uri.push('?');
    uri.push_str(query);
    Ok(uri)
}

/// Whether the database has a non-empty write-ahead log beside it (events
/// not yet copied into the database file).
fn has_log(db: &Path) -> bool {
    let mut log = PathBuf::from(db).into_os_string();
    log.push("-wal");
    std::fs::metadata(log).is_ok_and(|m| m.len() > 0)
}
