//! Loads a JSONL file of events back: every good line is kept, bad lines
//! are reported by number, and a last line cut short (a writer stopped in
//! the middle of it) is told apart from a bad one. A UTF-8 byte order mark
//! at the start of the file is skipped; lines holding NUL bytes are bad
//! lines named as binary data.

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
    /// The last line has no newline and its JSON ends before it is
    /// complete: a writer stopped in the middle of it (a crash, a full
    /// disk). Not an error. A last line that is complete (or not JSON at
    /// all) but not an event is a bad line, newline or not.
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
            let mut text = line.as_slice();
            if read.lines == 1 {
                text = text.strip_prefix(BOM).unwrap_or(text);
            }
            let text = text.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match parse_line(text) {
                Ok(event) => read.events.push(event),
                Err(Fault::CutShort(_)) if !ended => read.truncated_tail = true,
                Err(Fault::CutShort(error) | Fault::Bad(error)) => read.bad_lines.push(BadLine {
                    line: read.lines,
                    error,
                }),
            }
        }
    }
}

/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a line is not an event.
enum Fault {
    /// Its JSON ends before it is complete.
    CutShort(EventError),
    /// Anything else.
    Bad(EventError),
}

/// Reads one line (trimmed, not blank) as an event.
fn parse_line(text: &[u8]) -> Result<Event, Fault> {
    if text.contains(&0) {
        let nuls = text.iter().filter(|&&b| b == 0).count();
        return Err(Fault::Bad(EventError::invalid_json(json_error(format!(
            "the line holds {nuls} NUL byte{}: binary data, not JSON text",
            if nuls == 1 { "" } else { "s" }
        )))));
    }
    match serde_json::from_slice(text) {
        Ok(value) => Event::from_json(value).map_err(Fault::Bad),
        Err(error) if error.is_eof() => Err(Fault::CutShort(EventError::invalid_json(error))),
        Err(error) => Err(Fault::Bad(EventError::invalid_json(error))),
    }
}

/// A JSON error with this message.
fn json_error(message: impl std::fmt::Display) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> JsonlRead {
        JsonlRead::from_reader(text).unwrap()
    }

    #[test]
    fn only_a_last_line_whose_json_stops_early_is_cut_short() {
        for last in [
            r#"{"event_type": 7}"#,
            "not json",
            r#"{"event_type": "a"}}"#,
        ] {
            let got = read(format!("{{\"event_type\": \"a\"}}\n{last}").as_bytes());
            assert_eq!(got.events.len(), 1, "{last}");
            assert!(!got.truncated_tail, "a complete last line is bad: {last}");
            assert_eq!(got.bad_lines.len(), 1, "{last}");
            assert_eq!(got.bad_lines[0].line, 2, "{last}");
        }
        for last in [
            r#"{"event_type": "a", "pay"#,
            r#"{"event_type": "#,
            r#"{"event_type": tr"#,
        ] {
            let got = read(format!("{{\"event_type\": \"a\"}}\n{last}").as_bytes());
            assert!(got.truncated_tail, "{last}");
            assert!(got.bad_lines.is_empty(), "{last}");
            // The same with its newline is a bad line.
            let got = read(format!("{{\"event_type\": \"a\"}}\n{last}\n").as_bytes());
            assert!(!got.truncated_tail, "{last}");
            assert_eq!(got.bad_lines.len(), 1, "{last}");
        }
    }

    #[test]
    fn nul_bytes_are_a_bad_line_named_as_binary_data() {
        let got = read(&[0u8; 1000]);
        assert!(!got.truncated_tail);
        assert_eq!(got.bad_lines.len(), 1);
        let message = got.bad_lines[0].to_string();
        assert!(message.contains("1000 NUL bytes"), "{message}");
        let got = read(b"{\"event_type\": \"a\0\"}\n");
        assert!(got.bad_lines[0].to_string().contains("1 NUL byte:"));
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_skipped_and_nowhere_else() {
        let got =
            read(b"\xEF\xBB\xBF{\"event_type\": \"a\"}\n\xEF\xBB\xBF{\"event_type\": \"b\"}\n");
        assert_eq!(got.events.len(), 1);
        assert_eq!(got.events[0].event_type, "a");
        assert_eq!(got.bad_lines.len(), 1);
        assert_eq!(got.bad_lines[0].line, 2);
    }
}
