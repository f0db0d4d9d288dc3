//! Loads a JSONL file of events back: every good line is kept, bad lines
//! are reported by number, and a last line cut short (a writer stopped in
//! the middle of it) is told apart from a bad one.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use crate::event::{Event, EventError};

use super::{JsonlError, JsonlErrorKind};

/// What [`read_jsonl`] found in a file: the events of every good line, in
/// file order, and the lines that are not events.
///
/// ```
/// use event_center::JsonlRead;
///
/// let text = "{\"event_type\": \"a.one\"}\nnot json\n{\"event_type\": \"a.two\"}\n{\"event_ty";
/// let read = JsonlRead::from_reader(text.as_bytes()).unwrap();
/// assert_eq!(read.events.len(), 2);
/// assert_eq!(read.bad_lines[0].line, 2);
/// assert!(read.truncated_tail);
/// assert_eq!(read.lines, 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct JsonlRead {
    /// The events of the good lines, in file order.
    pub events: Vec<Event>,
    /// Lines that are not events (not JSON, or JSON that is not an event),
    /// by line number; blank lines are skipped, not reported. A truncated
    /// last line is not among them.
    pub bad_lines: Vec<BadLine>,
    /// The last line has no newline and does not parse: a writer stopped in
    /// the middle of it (a crash, a full disk). Not an error.
    pub truncated_tail: bool,
    /// How many lines the file holds (the truncated tail included).
    pub lines: usize,
}

/// A line of a JSONL file that is not an event; see [`JsonlRead`].
///
/// ```
/// let read = event_center::JsonlRead::from_reader(&b"{\"event_type\": 7}\n"[..]).unwrap();
/// let bad = &read.bad_lines[0];
/// assert_eq!((bad.line, bad.error.field()), (1, "event_type"));
/// assert!(bad.to_string().starts_with("line 1: "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadLine {
    /// The line's number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub error: EventError,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

impl std::error::Error for BadLine {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Reads a JSONL file of events (as [`JsonlSink`](crate::JsonlSink)
/// writes): one event per line, Agently's JSON. Bad lines are reported by
/// number and the good ones around them kept; a truncated last line is
/// flagged, not an error.
///
/// # Errors
///
/// A [`JsonlError`] of kind [`JsonlErrorKind::Read`] naming the path, when
/// the file cannot be opened or read.
///
/// ```
/// use event_center::{read_jsonl, Event};
///
/// let path = std::env::temp_dir().join(format!("jsonl-read-{}.jsonl", std::process::id()));
/// let line = serde_json::to_string(&Event::new("tool.called").with_source("Agent")).unwrap();
/// std::fs::write(&path, format!("{line}\n{{\"event_type\": \"\"}}\n{line}\n{{\"event")).unwrap();
///
/// let read = read_jsonl(&path).unwrap();
/// assert_eq!(read.events.len(), 2);
/// assert_eq!(read.events[0].source, "Agent");
/// assert_eq!(read.bad_lines.len(), 1);
/// assert_eq!(read.bad_lines[0].line, 2);
/// assert!(read.truncated_tail);
/// # std::fs::remove_file(path).unwrap();
/// ```
pub fn read_jsonl(path: impl AsRef<Path>) -> Result<JsonlRead, JsonlError> {
    let path = path.as_ref();
    let error = |e| JsonlError::new(path, JsonlErrorKind::Read, Some(e));
    let file = File::open(path).map_err(error)?;
    JsonlRead::from_reader(BufReader::with_capacity(256 * 1024, file)).map_err(error)
}

impl JsonlRead {
    /// Reads JSONL events from any buffered reader (a file, a socket, an
    /// uploaded body), like [`read_jsonl`].
    ///
    /// # Errors
    ///
    /// The reader's I/O error.
    ///
    /// ```
    /// let read = event_center::JsonlRead::from_reader(&b"{\"event_type\": \"x.y\"}\n\n"[..]).unwrap();
    /// assert_eq!(read.events[0].event_type, "x.y");
    /// assert!(read.bad_lines.is_empty() && !read.truncated_tail);
    /// ```
    pub fn from_reader(mut reader: impl BufRead) -> io::Result<JsonlRead> {
        let mut read = JsonlRead::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(read);
            }
            read.lines += 1;
            let ended = line.last() == Some(&b'\n');
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let parsed = serde_json::from_slice(text)
                .map_err(EventError::invalid_json)
                .and_then(Event::from_json);
            match parsed {
                Ok(event) => read.events.push(event),
                Err(_) if !ended => read.truncated_tail = true,
                Err(error) => read.bad_lines.push(BadLine {
                    line: read.lines,
                    error,
                }),
            }
        }
    }
}
