//! `import` and `export`: events between JSONL files and a store, in
//! batches, without a server.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use event_center::{Event, ObservationStore, ServerError, ServerErrorKind, TextFault};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{printable, CliError};
use crate::DataDir;

/// Lines read, checked and stored (in one transaction) at a time...
const BATCH_LINES: usize = 5_000;
/// ...or fewer, once they hold this many bytes.
const BATCH_BYTES: usize = 32 << 20;
/// The longest line kept: the server's default body limit (a longer line
/// is refused as ingest would refuse it, and read past, not into memory).
const MAX_LINE: usize = 8 << 20;
/// Buffer size of the file reader and writer.
const BUFFER: usize = 256 * 1024;
/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `event-center import FILE.jsonl [--data-dir DIR]`.
#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The JSONL file: one event (Agently's JSON) per line.
    #[arg(value_name = "FILE.jsonl")]
    file: PathBuf,
    #[command(flatten)]
    data_dir: DataDir,
}

/// `event-center export [--data-dir DIR] [-o FILE]`.
#[derive(Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// What storing a batch did.
pub(crate) struct Stored {
    /// Events stored for the first time.
    pub(crate) new: usize,
    /// Events already in the store.
    pub(crate) duplicates: usize,
    /// Events the store refused (left out; the rest was stored), with the
    /// field at fault.
    pub(crate) invalid: Vec<(Event, String)>,
}

/// Stores `events` with `ingest`, leaving out any the store refuses as
/// invalid (it refuses a whole batch for one bad event) so the others are
/// stored. Any other failure (the disk, the database) is returned.
pub(crate) fn store_valid(
    mut events: Vec<Event>,
    mut ingest: impl FnMut(&[Event]) -> Result<usize, ServerError>,
) -> Result<Stored, ServerError> {
    let mut invalid = Vec::new();
    loop {
        let error = match ingest(&events) {
            Ok(new) => {
                return Ok(Stored {
                    new,
                    duplicates: events.len() - new,
                    invalid,
                })
            }
            Err(error) => error,
        };
        match error.kind() {
            ServerErrorKind::InvalidEvent { index, field } if *index < events.len() => {
                invalid.push((events.remove(*index), field.clone()));
            }
            _ => return Err(error),
        }
    }
}

/// A bar on standard error, drawn only when it is a terminal.
fn progress(len: u64, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(len).with_style(style)
}

/// Appends the next line of `reader` to `buf`, without its newline and
/// keeping at most `limit + 1` of its bytes (a longer line is read to its
/// end but not kept). `None` at the end of the input, else whether the line
/// ended with a newline.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Option<bool>> {
    let keep_until = buf.len().saturating_add(limit).saturating_add(1);
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(any.then_some(false));
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let part = &available[..newline.unwrap_or(available.len())];
        let room = keep_until.saturating_sub(buf.len()).min(part.len());
        buf.extend_from_slice(&part[..room]);
        let used = newline.map_or(available.len(), |at| at + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(true));
        }
    }
}

/// Stores the events of a JSONL file, `BATCH_LINES` lines at a time, each
/// line read as the server's ingest reads an event (so what `export` wrote
/// comes back as it was). Bad lines are reported by number and skipped; a
/// last line cut short (no newline, JSON that stops early) is reported as
/// such and is not an error.
pub(crate) fn import(args: ImportArgs) -> Result<(), CliError> {
    let path = &args.file;
    let shown = path.display();
    let read_error = CliError::io(
        "read",
        format!("`{shown}`"),
        "check the file's path and permissions",
    );
    let file = File::open(path).map_err(&read_error)?;
    let size = file.metadata().map_or(0, |m| m.len());
    let dir = args.data_dir.resolve()?;
    let mut store = ObservationStore::open(&dir)?;

    let bar = progress(
        size,
        "importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    );
    let mut reader = BufReader::with_capacity(BUFFER, bar.wrap_read(file));
    let (mut lines, mut good, mut new, mut bad) = (0usize, 0usize, 0usize, 0usize);
    let mut text = Vec::new();
    // Each kept line's number, place in `text`, and whether it ended with a
    // newline (only the file's last line may not).
    let mut spans: Vec<(usize, std::ops::Range<usize>, bool)> = Vec::new();
    loop {
        text.clear();
        spans.clear();
        while spans.len() < BATCH_LINES && text.len() < BATCH_BYTES {
            let start = text.len();
            let Some(ended) = read_line(&mut reader, &mut text, MAX_LINE).map_err(&read_error)?
            else {
                break;
            };
            lines += 1;
            if lines == 1 && text.starts_with(BOM) {
                text.drain(..BOM.len());
            }
            if text[start..].trim_ascii().is_empty() {
                text.truncate(start);
            } else {
                spans.push((lines, start..text.len(), ended));
            }
        }
        if spans.is_empty() {
            break; // only blank lines were left
        }
        let batch: Vec<&[u8]> = spans
            .iter()
            .map(|(_, span, _)| &text[span.clone()])
            .collect();
        let stored = store.ingest_json(&batch)?;
        for refused in &stored.refused {
            let (number, _, ended) = &spans[refused.index];
            let (number, ended) = (*number, *ended);
            if refused.fault == TextFault::EndsEarly && !ended {
                bar.suspend(|| {
                    eprintln!(
                        "{shown}: line {number} is cut short (the writer stopped in the middle \
                         of it); skipped"
                    )
                });
            } else {
                bad += 1;
                let why = printable(&refused.message);
                bar.suspend(|| eprintln!("{shown}: line {number}: {why}"));
            }
        }
        good += stored.new + stored.duplicates;
        new += stored.new;
    }
    bar.finish_and_clear();
    say!(
        "imported {shown} into {}: {good} events, {new} new, {} already stored",
        dir.display(),
        good - new
    );
    if bad > 0 {
        return Err(CliError::Incomplete(format!(
            "{bad} of the {} lines of {shown} are not storable events (listed above) and were \
             skipped; fix them and import the file again (events already stored are not stored \
             twice)",
            lines
        )));
    }
    Ok(())
}

/// Writes every stored event as a JSONL line, oldest first.
pub(crate) fn export(args: ExportArgs) -> Result<(), CliError> {
    let dir = args.data_dir.resolve()?;
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "`{}` is not a store directory (it does not exist or is not a directory); give the \
             --data-dir that `serve` or `import` wrote to",
            dir.display()
        )));
    }
    let store = ObservationStore::open_read_only(&dir)?;
    let (out, name): (Box<dyn Write>, String) = match &args.output {
        Some(path) => {
            let file = File::create(path).map_err(CliError::io(
                "create",
                format!("`{}`", path.display()),
                "check that its directory exists and is writable",
            ))?;
            (Box::new(file), format!("`{}`", path.display()))
        }
        None => (Box::new(io::stdout().lock()), "standard output".to_owned()),
    };
    let write_error = CliError::io(
        "write to",
        &name,
        "check the disk space and the destination",
    );
    let bar = progress(
        store.len(),
        "exporting [{bar:40}] {human_pos}/{human_len} events ({eta} left)",
    );
    let mut out = BufWriter::with_capacity(BUFFER, out);
    let mut count = 0u64;
    let written = store.export().try_for_each(|line| {
        let line = line?;
        out.write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(&write_error)?;
        count += 1;
        bar.inc(1);
        Ok::<(), CliError>(())
    });
    let written = written.and_then(|()| out.flush().map_err(&write_error));
    bar.finish_and_clear();
    match written {
        // A reader that stopped early (`| head`) is not a failure.
        Err(CliError::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(error),
        Ok(()) => {
            eprintln!("exported {count} events from {} to {name}", dir.display());
            Ok(())
        }
    }
}
