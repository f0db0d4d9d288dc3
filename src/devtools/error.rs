//! The server's and the store's typed error.

use std::error::Error as StdError;
use std::fmt;

/// What went wrong in the observation server or its store; see [`ServerError`].
///
/// ```
/// use event_center::{Event, ObservationStore, ServerErrorKind};
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = ObservationStore::open(dir.path()).unwrap();
/// let err = store.ingest(&[Event::new("ok"), Event::new("")]).unwrap_err();
/// assert_eq!(
///     err.kind(),
///     &ServerErrorKind::InvalidEvent { index: 1, field: "event_type".into() }
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// A builder setting is not usable (the detail names it).
    InvalidConfig,
    /// The address could not be bound (in use, not local, not permitted).
    Bind,
    /// The data directory could not be created or opened.
    DataDir,
    /// SQLite refused a read or a write.
    Storage,
    /// An event given to `ingest` is not a valid event.
    InvalidEvent {
        /// Its position in the list given.
        index: usize,
        /// The dotted path of the bad field (`event_type`, `run.run_id`).
        field: String,
    },
    /// The server is shut down (or its storage thread stopped).
    Stopped,
    /// A thread or the async runtime could not be started.
    Runtime,
}

/// An error of the observation server or its store: what went wrong
/// ([`kind`](ServerError::kind)) and, in its message, what to do.
///
/// ```
/// use event_center::{ObservationServer, ServerErrorKind};
///
/// let err = ObservationServer::builder().with_host("not a host").build().unwrap_err();
/// assert_eq!(err.kind(), &ServerErrorKind::InvalidConfig);
/// assert!(err.to_string().contains("not a host"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    kind: ServerErrorKind,
    detail: String,
}

impl ServerError {
    pub(crate) fn new(kind: ServerErrorKind, detail: impl Into<String>) -> Self {
        ServerError {
            kind,
            detail: detail.into(),
        }
    }

    pub(crate) fn storage(error: rusqlite::Error) -> Self {
        Self::new(ServerErrorKind::Storage, error.to_string())
    }

    pub(crate) fn stopped() -> Self {
        Self::new(ServerErrorKind::Stopped, "the storage thread has stopped")
    }

    /// What went wrong.
    ///
    /// ```
    /// use event_center::{ObservationServer, ServerErrorKind};
    /// let err = ObservationServer::builder().with_api_key("").build().unwrap_err();
    /// assert_eq!(err.kind(), &ServerErrorKind::InvalidConfig);
    /// ```
    pub fn kind(&self) -> &ServerErrorKind {
        &self.kind
    }
}

impl From<rusqlite::Error> for ServerError {
    fn from(error: rusqlite::Error) -> Self {
        ServerError::storage(error)
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = &self.detail;
        match &self.kind {
            ServerErrorKind::InvalidConfig => {
                write!(f, "observation server setting is not valid: {detail}")
            }
            ServerErrorKind::Bind => write!(
                f,
                "observation server could not listen on {detail}; pick a free port \
                 (0 lets the system choose) or a local address"
            ),
            ServerErrorKind::DataDir => write!(
                f,
                "observation store directory is not usable: {detail}; give a directory \
                 the process may create and write"
            ),
            ServerErrorKind::Storage => write!(
                f,
                "observation store (SQLite) failed: {detail}; check the disk and that no \
                 other program holds the database"
            ),
            ServerErrorKind::InvalidEvent { index, field } => write!(
                f,
                "event {index} is not valid at `{field}`: {detail}; nothing of the batch \
                 was stored, fix or drop that event"
            ),
            ServerErrorKind::Stopped => write!(
                f,
                "observation server is stopped ({detail}); start a new one"
            ),
            ServerErrorKind::Runtime => write!(
                f,
                "observation server could not start its threads: {detail}; the process is \
                 out of threads or memory"
            ),
        }
    }
}

impl StdError for ServerError {}
