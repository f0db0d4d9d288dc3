//! The tool's error: one line naming what went wrong and what to do.

use std::fmt;
use std::io;

use event_center::{DevtoolsError, NatsError, PatternError, RegisterError, ServerError};

/// Everything a command can fail with; `main` prints it as one line after
/// `error: ` and exits with status 1.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The observation server or its store.
    Server(ServerError),
    /// The NATS source.
    Nats(NatsError),
    /// A `tail` pattern.
    Pattern(PatternError),
    /// The demo's forwarder.
    Devtools(DevtoolsError),
    /// The demo's hook registration.
    Register(RegisterError),
    /// A file or stream: what was being done, to which, why it failed and
    /// what to do.
    Io {
        action: &'static str,
        target: String,
        source: io::Error,
        hint: &'static str,
    },
    /// The async runtime (for signals and NATS) could not start.
    Runtime(io::Error),
    /// A flag value that parses but cannot be used.
    Usage(String),
    /// The command ran, but not everything it was given went through.
    Incomplete(String),
}

impl CliError {
    /// An I/O failure to `action` `target` (a path, `standard output`).
    pub(crate) fn io(
        action: &'static str,
        target: impl fmt::Display,
        hint: &'static str,
    ) -> impl Fn(io::Error) -> CliError {
        let target = target.to_string();
        move |source| CliError::Io {
            action,
            target: target.clone(),
            source,
            hint,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Server(e) => write!(f, "{e}"),
            CliError::Nats(e) => write!(f, "{e}"),
            CliError::Pattern(e) => write!(f, "{e}"),
            CliError::Devtools(e) => write!(f, "{e}"),
            CliError::Register(e) => write!(f, "{e}"),
            CliError::Io {
                action,
                target,
                source,
                hint,
            } => write!(f, "cannot {action} {target}: {source}; {hint}"),
            CliError::Runtime(e) => write!(
                f,
                "cannot start the async runtime: {e}; the process is out of threads or memory"
            ),
            CliError::Usage(detail) | CliError::Incomplete(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for CliError {}

impl From<ServerError> for CliError {
    fn from(e: ServerError) -> Self {
        CliError::Server(e)
    }
}

impl From<NatsError> for CliError {
    fn from(e: NatsError) -> Self {
        CliError::Nats(e)
    }
}

impl From<PatternError> for CliError {
    fn from(e: PatternError) -> Self {
        CliError::Pattern(e)
    }
}

impl From<DevtoolsError> for CliError {
    fn from(e: DevtoolsError) -> Self {
        CliError::Devtools(e)
    }
}

impl From<RegisterError> for CliError {
    fn from(e: RegisterError) -> Self {
        CliError::Register(e)
    }
}
