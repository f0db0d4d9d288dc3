//! The JSONL sink's one error type: a file that could not be opened,
//! written, rotated, synced or read, an option out of range, or a sink that
//! could not be registered.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::center::RegisterError;

/// A JSONL file that could not be opened, written, rotated, synced or read,
/// a builder option out of range, or a sink that could not be registered:
/// names the path and says what to do.
///
/// [`JsonlSinkBuilder::register`](crate::JsonlSinkBuilder::register)
/// returns it; a failure while the sink runs (a full disk) is returned by
/// the sink's hook, so the center counts it as failed and reports it as an
/// `event_center.hook_failed` event carrying this error's message, and the
/// sink's [`JsonlStats`](crate::JsonlStats) count it.
///
/// ```
/// use event_center::{read_jsonl, JsonlErrorKind};
/// let err = read_jsonl("/nonexistent/events.jsonl").unwrap_err();
/// assert_eq!(err.kind(), &JsonlErrorKind::Read);
/// assert!(err.path().ends_with("events.jsonl"));
/// assert!(err.io_error().is_some());
/// ```
#[derive(Clone, Debug)]
pub struct JsonlError {
    path: PathBuf,
    kind: JsonlErrorKind,
    source: Option<Arc<io::Error>>,
    /// Boxed: a registration error is rare, and the error stays small.
    register: Option<Box<RegisterError>>,
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
    /// The sink could not be registered on the center (a name taken or
    /// blank, a pattern that does not compile); see
    /// [`JsonlError::register_error`].
    Register,
}

impl JsonlError {
    pub(crate) fn new(path: &Path, kind: JsonlErrorKind, source: Option<io::Error>) -> Self {
        JsonlError {
            path: path.to_path_buf(),
            kind,
            source: source.map(Arc::new),
            register: None,
            lost: 0,
        }
    }

    pub(super) fn register(path: &Path, error: RegisterError) -> Self {
        JsonlError {
            register: Some(Box::new(error)),
            ..JsonlError::new(path, JsonlErrorKind::Register, None)
        }
    }

    pub(super) fn with_lost(mut self, lost: u64) -> Self {
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
        self.source.as_deref()
    }

    /// The center's error, when the sink could not be registered
    /// ([`JsonlErrorKind::Register`]).
    ///
    /// ```
    /// use event_center::{EventCenter, JsonlErrorKind, JsonlSink, RegisterErrorKind};
    ///
    /// let path = std::env::temp_dir().join(format!("jsonl-regerr-{}.jsonl", std::process::id()));
    /// let err = JsonlSink::builder(&path).register(&EventCenter::new(), " ").unwrap_err();
    /// assert_eq!(err.kind(), &JsonlErrorKind::Register);
    /// assert_eq!(err.register_error().unwrap().kind(), &RegisterErrorKind::EmptyName);
    /// # let _ = std::fs::remove_file(path);
    /// ```
    pub fn register_error(&self) -> Option<&RegisterError> {
        self.register.as_deref()
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
            JsonlErrorKind::Read => write!(
                f,
                "cannot read JSONL file `{path}`{cause}: check the path and that it can be read"
            ),
            JsonlErrorKind::InvalidOption(what) => {
                write!(f, "invalid JSONL sink option for `{path}`: {what}")
            }
            JsonlErrorKind::Register => match &self.register {
                Some(e) => write!(f, "cannot register the JSONL sink for `{path}`: {e}"),
                None => write!(f, "cannot register the JSONL sink for `{path}`"),
            },
        }
    }
}

impl std::error::Error for JsonlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match (&self.source, &self.register) {
            (Some(e), _) => Some(&**e),
            (None, Some(e)) => Some(&**e),
            (None, None) => None,
        }
    }
}
