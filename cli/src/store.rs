//! `import` and `export`: events between JSONL files and a store, in
//! batches, without a server.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use event_center::{Event, JsonlRead, ObservationStore, ServerError, ServerErrorKind};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CliError;
use crate::DataDir;

/// Lines read, checked and stored (in one transaction) at a time.
const BATCH_LINES: usize = 5_000;
/// Buffer size of the file reader and writer.
const BUFFER: usize = 256 * 1024;

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

/// Stores the events of a JSONL file, `BATCH_LINES` lines at a time.
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
    let mut chunk = Vec::new();
    loop {
        chunk.clear();
        let mut taken = 0;
        while taken < BATCH_LINES && reader.read_until(b'\n', &mut chunk).map_err(&read_error)? > 0
        {
            taken += 1;
        }
        if taken == 0 {
            break;
        }
        let read = JsonlRead::from_reader(chunk.as_slice()).map_err(&read_error)?;
        for line in &read.bad_lines {
            bar.suspend(|| eprintln!("{shown}: line {}: {}", lines + line.line, line.error));
        }
        if read.truncated_tail {
            bar.suspend(|| {
                eprintln!(
                    "{shown}: line {} is cut short (the writer stopped in the middle of it); \
                     skipped",
                    lines + taken
                )
            });
        }
        bad += read.bad_lines.len();
        good += read.events.len();
        let stored = store_valid(read.events, |batch| store.ingest(batch))?;
        for (event, field) in &stored.invalid {
            bar.suspend(|| {
                eprintln!(
                    "{shown}: event {} (`{}`) cannot be stored: field `{field}` is not valid",
                    event.event_id, event.event_type
                )
            });
        }
        bad += stored.invalid.len();
        good -= stored.invalid.len();
        new += stored.new;
        lines += taken;
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
    let store = ObservationStore::open(&dir)?;
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
