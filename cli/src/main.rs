//! `event-center`: the observation server (Agently DevTools' API and a
//! viewer), a demo of a multi-agent workload, a live tail of a server's
//! events, and JSONL import and export of a store.

#![forbid(unsafe_code)]
/// `println!` that ignores a closed standard output (`| head`) instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod demo;
mod error;
mod serve;
mod store;
mod tail;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use error::CliError;

/// The observation event center's command-line tool.
#[derive(Parser)]
#[command(name = "event-center", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the observation server: Agently DevTools' HTTP API, live streams
    /// and the viewer, over a SQLite store (optionally fed from NATS).
    Serve(serve::ServeArgs),
    /// Start a server and a simulated multi-agent workload reporting to it:
    /// open the printed address to watch.
    Demo(demo::DemoArgs),
    /// Follow a server's live events in the terminal, one line each.
    Tail(tail::TailArgs),
    /// Store the events of a JSONL file (bad lines are reported by number,
    /// events already stored are not stored twice).
    Import(store::ImportArgs),
    /// Write every stored event as JSONL, oldest first.
    Export(store::ExportArgs),
}

/// The store's directory, shared by `serve`, `import` and `export`.
#[derive(Args)]
struct DataDir {
    /// The store's directory (created if missing) [default:
    /// ~/.event-center/data]
    #[arg(long, value_name = "DIR", env = "EVENT_CENTER_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    /// The directory given, or `~/.event-center/data`.
    fn resolve(&self) -> Result<PathBuf, CliError> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".event-center").join("data"))
            .ok_or_else(|| {
                CliError::Usage(
                    "no home directory (HOME is not set) for the default store; give one with \
                     --data-dir DIR"
                        .to_owned(),
                )
            })
    }
}

/// A runtime for signals and the NATS fan-in.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Ctrl-C and SIGTERM, listened for from the moment this is made.
/// Commands make it before they print anything: a signal sent as soon as
/// their first line shows then stops them cleanly, instead of killing them
/// as the default action of a signal nobody listens for would.
struct StopSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Starts listening, on `runtime`'s signal driver.
    fn listen(runtime: &tokio::runtime::Runtime) -> Result<Self, CliError> {
        let _context = runtime.enter();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignal {
                interrupt: signal(SignalKind::interrupt()).map_err(CliError::Signal)?,
                terminate: signal(SignalKind::terminate()).map_err(CliError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    /// Completes at the first Ctrl-C or SIGTERM since [`StopSignal::listen`].
    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Tail(args) => tail::run(args),
        Command::Import(args) => store::import(args),
        Command::Export(args) => store::export(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
