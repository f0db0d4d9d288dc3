//! The file side of the JSONL sink: a line buffer, the open file, rotation,
//! the fsync policy and the counters. Everything here runs under the sink's
//! lock, on the hook's worker thread, the flusher thread or a flushing
//! caller; never on the emit path.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::event::{Event, JsonMap};
use crate::run::RunContext;

use super::{FsyncPolicy, JsonlError, JsonlErrorKind, JsonlStats};

/// The buffer is written out once it holds this many bytes: a few hundred
/// events per `write` call.
pub(super) const WRITE_AT: usize = 128 * 1024;

/// Size-based rotation: see `JsonlSinkBuilder::with_rotation`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rotation {
    pub(super) max_bytes: u64,
    pub(super) max_files: usize,
}

/// The sink's file state.
pub(super) struct FileWriter {
    path: PathBuf,
    rotation: Option<Rotation>,
    fsync: FsyncPolicy,
    /// The open file, or `None` after an error (reopened at the next write).
    file: Option<File>,
    /// The current file's length, as far as this writer knows.
    file_len: u64,
    /// When a failed rotation may be tried again: after this many more
    /// bytes in the current file.
    rotate_not_before: u64,
    /// Whole lines not yet written.
    buf: Vec<u8>,
    /// How many events `buf` holds.
    buffered: u64,
    /// The file may end inside a line (a torn write, or a crash before this
    /// sink opened it): the next write starts with a newline.
    torn: bool,
    /// Events appended since the last fsync (for `FsyncPolicy::EveryN`).
    since_sync: u64,
    /// Bytes written since the last fsync.
    unsynced: bool,
    /// An error found outside a hook call (by the flusher thread), returned
    /// by the next hook call so the center counts and reports it.
    unreported: Option<JsonlError>,
    line: LineWriter,
    stats: JsonlStats,
}

impl FileWriter {
    /// Opens (or creates) `path` for appending, creating missing parent
    /// directories.
    pub(super) fn open(
        path: PathBuf,
        rotation: Option<Rotation>,
        fsync: FsyncPolicy,
    ) -> Result<FileWriter, JsonlError> {
        let mut writer = FileWriter {
            path,
            rotation,
            fsync,
            file: None,
            file_len: 0,
            rotate_not_before: 0,
            buf: Vec::with_capacity(WRITE_AT + 4096),
            buffered: 0,
            torn: false,
            since_sync: 0,
            unsynced: false,
            unreported: None,
            line: LineWriter::default(),
            stats: JsonlStats::default(),
        };
        writer.reopen()?;
        Ok(writer)
    }

    pub(super) fn stats(&self) -> JsonlStats {
        JsonlStats {
            buffered: self.buffered,
            ..self.stats.clone()
        }
    }

    /// Keeps the message of a failure as the stats' last error.
    fn noted<T>(&mut self, result: Result<T, JsonlError>) -> Result<T, JsonlError> {
        if let Err(e) = &result {
            self.stats.last_error = Some(e.to_string());
        }
        result
    }

    fn error(&self, kind: JsonlErrorKind, source: io::Error) -> JsonlError {
        JsonlError::new(&self.path, kind, Some(source))
    }

    /// Opens the file for appending; notes whether it ends inside a line.
    fn reopen(&mut self) -> Result<(), JsonlError> {
        let open = || -> io::Result<(File, u64, bool)> {
            if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)?;
            }
            let mut file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(&self.path)?;
            let len = file.metadata()?.len();
            let mut torn = false;
            if len > 0 && file.seek(SeekFrom::End(-1)).is_ok() {
                let mut last = [0u8; 1];
                torn = file.read_exact(&mut last).is_ok() && last[0] != b'\n';
            }
            Ok((file, len, torn))
        };
        match open() {
            Ok((file, len, torn)) => {
                self.file = Some(file);
                self.file_len = len;
                self.torn |= torn;
                Ok(())
            }
            Err(e) => {
                self.stats.errors += 1;
                Err(self.error(JsonlErrorKind::Open, e))
            }
        }
    }

    /// Appends one event as one line. Writes the buffer out when it is full,
    /// when the file must rotate first, or when the fsync policy says so.
    pub(super) fn append(&mut self, event: &Event) -> Result<(), JsonlError> {
        let appended = self.append_line(event);
        let appended = self.noted(appended);
        match self.unreported.take() {
            Some(earlier) if appended.is_ok() => Err(earlier),
            _ => appended,
        }
    }

    fn append_line(&mut self, event: &Event) -> Result<(), JsonlError> {
        let start = self.buf.len();
        if let Err(e) = self.line.write(&mut self.buf, event) {
            self.buf.truncate(start);
            self.stats.lost += 1;
            self.stats.errors += 1;
            return Err(JsonlError::new(
                &self.path,
                JsonlErrorKind::Serialize,
                Some(io::Error::new(io::ErrorKind::InvalidData, e)),
            ));
        }
        self.buf.push(b'\n');
        let mut result = Ok(());
        if let Some(rotation) = self.rotation {
            let before = start as u64;
            let line = (self.buf.len() - start) as u64;
            let len = self.file_len + before;
            if len > 0 && len + line > rotation.max_bytes && len >= self.rotate_not_before {
                // The lines before this one go to the current file, this one
                // starts the next: a line is never split across files.
                result = self.write_out(start).and_then(|()| self.rotate(rotation));
            }
        }
        self.buffered += 1;
        self.since_sync += 1;
        let sync_now = matches!(self.fsync, FsyncPolicy::EveryN(n) if self.since_sync >= n.max(1));
        if sync_now {
            let synced = self.write_out(self.buf.len()).and_then(|()| self.sync());
            result = result.and(synced);
        } else if self.buf.len() >= WRITE_AT {
            result = result.and(self.write_out(self.buf.len()));
        }
        result
    }

    /// Writes the first `upto` bytes of the buffer to the file, reopening
    /// it if an earlier error closed it: `upto` is the end of the last
    /// counted line (the buffer's end, or the start of a line not yet
    /// counted in `buffered`). On an error the events of those bytes are
    /// counted as lost and the file is closed.
    fn write_out(&mut self, upto: usize) -> Result<(), JsonlError> {
        if upto == 0 {
            return Ok(());
        }
        let events = self.buffered;
        if self.file.is_none() {
            if let Err(e) = self.reopen() {
                self.discard(upto, events);
                return Err(e.with_lost(events));
            }
        }
        let file = self.file.as_mut().expect("opened above");
        let mut result = Ok(());
        if self.torn {
            result = file.write_all(b"\n");
            if result.is_ok() {
                self.file_len += 1;
                self.torn = false;
            }
        }
        let mut written = 0;
        if result.is_ok() {
            while written < upto {
                match file.write(&self.buf[written..upto]) {
                    Ok(0) => {
                        result = Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the file took no more bytes",
                        ));
                        break;
                    }
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        self.file_len += written as u64;
        self.stats.bytes += written as u64;
        self.unsynced |= written > 0;
        match result {
            Ok(()) => {
                self.stats.written += events;
                self.buffered -= events;
                self.buf.drain(..upto);
                Ok(())
            }
            Err(e) => {
                // Whole lines that made it are written; the rest is lost, and
                // a line cut in the middle is ended by the next write.
                let whole = self.buf[..written].iter().rposition(|&b| b == b'\n');
                let done = whole.map_or(0, |i| bytecount_lines(&self.buf[..=i]));
                self.torn = written > 0 && self.buf[written - 1] != b'\n';
                self.stats.written += done;
                self.buffered -= done;
                let lost = events - done;
                self.discard(upto, lost);
                self.stats.errors += 1;
                self.file = None;
                Err(self.error(JsonlErrorKind::Write, e).with_lost(lost))
            }
        }
    }

    /// Drops the first `upto` bytes of the buffer, `lost` events of them
    /// not written.
    fn discard(&mut self, upto: usize, lost: u64) {
        self.buf.drain(..upto);
        self.buffered -= lost;
        self.stats.lost += lost;
    }

    /// Writes everything buffered; with `sync`, fsyncs too (unless the
    /// policy is `Never`).
    fn flush(&mut self, sync: bool) -> Result<(), JsonlError> {
        self.write_out(self.buf.len())?;
        if sync && self.fsync != FsyncPolicy::Never {
            self.sync()?;
        }
        Ok(())
    }

    /// Writes everything buffered outside a hook call (from the flusher
    /// thread, or the guard's flush with `sync`): an error is counted and
    /// kept for the next hook call to return, so the center counts and
    /// reports it.
    pub(super) fn flush_outside_hook(&mut self, sync: bool) {
        if self.buf.is_empty() && !sync {
            return;
        }
        let flushed = self.flush(sync);
        if let Err(e) = self.noted(flushed) {
            self.unreported = Some(e);
        }
    }

    /// Writes and fsyncs what is buffered (as a flush outside a hook call)
    /// and closes the file; a line appended afterwards would reopen it.
    pub(super) fn close(&mut self) {
        self.flush_outside_hook(true);
        self.file = None;
    }

    /// Whether lines are waiting in the buffer.
    pub(super) fn has_buffered(&self) -> bool {
        !self.buf.is_empty()
    }

    fn sync(&mut self) -> Result<(), JsonlError> {
        self.since_sync = 0;
        if !self.unsynced {
            return Ok(());
        }
        let Some(file) = self.file.as_ref() else {
            return Ok(());
        };
        match file.sync_data() {
            Ok(()) => {
                self.unsynced = false;
                self.stats.fsyncs += 1;
                Ok(())
            }
            Err(e) => {
                self.stats.errors += 1;
                self.file = None;
                Err(self.error(JsonlErrorKind::Sync, e))
            }
        }
    }

    /// Moves `events.jsonl` to `events.jsonl.1` (and `.1` to `.2` ...,
    /// deleting the oldest) and starts an empty file. The buffer holds at
    /// most the line that goes first into the new file.
    fn rotate(&mut self, rotation: Rotation) -> Result<(), JsonlError> {
        if self.fsync != FsyncPolicy::Never {
            // A file that is done is made durable before it is renamed.
            let _ = self.sync();
        }
        self.file = None;
        let moved = (|| -> io::Result<()> {
            if rotation.max_files <= 1 {
                return match fs::remove_file(&self.path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                };
            }
            let numbered = |i: usize| {
                let mut name = self.path.clone().into_os_string();
                name.push(format!(".{i}"));
                PathBuf::from(name)
            };
            let oldest = numbered(rotation.max_files - 1);
            match fs::remove_file(&oldest) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            for i in (1..rotation.max_files - 1).rev() {
                match fs::rename(numbered(i), numbered(i + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            fs::rename(&self.path, numbered(1))
        })();
        if let Err(e) = moved {
            // Keep appending to the current file (nothing is lost) and try
            // again after another `max_bytes`.
            self.stats.errors += 1;
            let error = self.error(JsonlErrorKind::Rotate, e);
            let _ = self.reopen();
            self.rotate_not_before = self.file_len + rotation.max_bytes;
            return Err(error);
        }
        self.torn = false;
        self.rotate_not_before = 0;
        self.stats.rotations += 1;
        self.reopen()
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        // Last chance: the sink, its guard and the center's worker are gone.
        let _ = self.flush(true);
    }
}

/// How many lines (newlines) `bytes` holds.
fn bytecount_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Writes an event as the JSON its `Serialize` impl gives, byte for byte,
/// reusing the text of the run and the meta while consecutive events share
/// them (one `Arc`, as an emitter's events do): they are most of a line.
#[derive(Default)]
pub(super) struct LineWriter {
    run: Cached<RunContext>,
    meta: Cached<JsonMap>,
}

/// The JSON text of the last `Arc<T>` written, held so the pointer stays
/// that value's.
struct Cached<T> {
    value: Option<Arc<T>>,
    text: Vec<u8>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            value: None,
            text: Vec::new(),
        }
    }
}

impl<T: Serialize> Cached<T> {
    fn write(&mut self, out: &mut Vec<u8>, value: &Arc<T>) -> serde_json::Result<()> {
        if !self.value.as_ref().is_some_and(|v| Arc::ptr_eq(v, value)) {
            self.value = None;
            self.text.clear();
            serde_json::to_writer(&mut self.text, &**value)?;
            self.value = Some(value.clone());
        }
        out.extend_from_slice(&self.text);
        Ok(())
    }
}

impl LineWriter {
    /// Appends `event`'s JSON (no newline) to `out`: the same bytes as
    /// `serde_json::to_writer(out, event)`.
    pub(super) fn write(&mut self, out: &mut Vec<u8>, event: &Event) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"event_id\":");
        event.event_id.with_str(|id| write_str(out, id));
        out.extend_from_slice(b",\"event_type\":");
        write_str(out, &event.event_type);
        out.extend_from_slice(b",\"source\":");
        write_str(out, &event.source);
        out.extend_from_slice(b",\"level\":\"");
        out.extend_from_slice(event.level.as_str().as_bytes());
        out.extend_from_slice(b"\",\"message\":");
        match &event.message {
            None => out.extend_from_slice(b"null"),
            Some(message) => write_str(out, message),
        }
        out.extend_from_slice(b",\"payload\":");
        write_value(out, &event.payload)?;
        out.extend_from_slice(b",\"error\":");
        serde_json::to_writer(&mut *out, &event.error)?;
        out.extend_from_slice(b",\"run\":");
        match &event.run {
            None => out.extend_from_slice(b"null"),
            Some(run) => self.run.write(out, run)?,
        }
        out.extend_from_slice(b",\"meta\":");
        self.meta.write(out, &event.meta)?;
        out.extend_from_slice(b",\"timestamp\":");
        out.extend_from_slice(itoa::Buffer::new().format(event.timestamp).as_bytes());
        if event.seq != 0 {
            out.extend_from_slice(b",\"seq\":");
            out.extend_from_slice(itoa::Buffer::new().format(event.seq).as_bytes());
        }
        for (key, value) in &event.extra {
            out.push(b',');
            write_str(out, key);
            out.push(b':');
            write_value(out, value)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// Writes `value` as `serde_json::to_writer` does (compact), copying
/// strings that need no escaping in one piece: most of a payload's text.
fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

/// Writes `text` as a JSON string: copied as it is when no byte needs an
/// escape (checked eight bytes at a time), else escaped by serde_json.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        serde_json::to_writer(&mut *out, text).expect("a string serializes into a Vec");
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether `bytes` holds a byte JSON escapes: a control character, `"` or
/// a backslash.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Some byte of `x` is below `n` (n <= 0x80), or zero: exact tests of
    // "Bit Twiddling Hacks" (no false positives for the whole word).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_ne_bytes(chunk.try_into().expect("eight bytes"));
        if below(x, 0x20)
            || zero(x ^ (ONES * u64::from(b'"')))
            || zero(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ErrorInfo;
    use serde_json::json;

    #[test]
    fn lines_are_the_bytes_serde_json_writes() {
        let run = Arc::new(RunContext::new("agent_execution").with_agent_name("p\"q"));
        let mut extra = Event::from_json(json!({
            "event_type": "x.extra", "unknown": {"a": [1, 2]}, "\"odd key\n": 3, "seq": 0
        }))
        .unwrap();
        extra.run = Some(run.clone());
        let mut seq = Event::new("a.b\u{2028}")
            .with_message("two\nlines")
            .with_payload(json!({"f": 1.5, "s": "\u{1}"}))
            .with_error(ErrorInfo::new("Timeout", "slow").with_retryable(true))
            .with_meta("tenant", "demo");
        seq.seq = 7;
        seq.run = Some(run.clone());
        let other_run = Event::new("c.d").with_run(RunContext::new("tool"));
        let mut line = LineWriter::default();
        for event in [&extra, &seq, &seq, &other_run, &extra, &Event::new("plain")] {
            let mut out = Vec::new();
            line.write(&mut out, event).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(event).unwrap()
            );
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[a-z\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}é]{0,24}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_payload_is_written_as_serde_json_writes_it(payload in json_value(), key in ".{0,8}", text in ".{0,40}") {
            let mut event = Event::new("p.q").with_payload(payload.clone()).with_message(text);
            event.extra.insert(key, payload);
            let mut out = Vec::new();
            LineWriter::default().write(&mut out, &event).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&event).unwrap());
        }

        #[test]
        fn needs_escape_agrees_with_a_byte_by_byte_check(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let reference = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(needs_escape(&bytes), reference);
        }
    }
}
