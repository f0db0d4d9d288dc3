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
    /// Ctrl-C and SIGTERM could not be listened for.
    Signal(io::Error),
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
            CliError::Signal(e) => write!(
                f,
                "cannot listen for Ctrl-C and SIGTERM: {e}; the process is out of file descriptors or memory"
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

/// `text` safe to print on a terminal: every control character (C0, DEL,
/// C1 such as U+009B, the one-character CSI) and every character that
/// reorders or breaks lines (bidirectional overrides and isolates, the line
/// and paragraph separators) is written as its Rust escape (`\u{1b}`,
/// `\n`), so nothing read from an event or a file can move the cursor,
/// retitle or clear the terminal, or disguise what is shown.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    if !text.chars().any(unsafe_on_terminal) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_on_terminal(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A control character, or a format character that changes the order or
/// the lines of what follows.
fn unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'
                ..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("tool.é ✓"), "tool.é ✓");
        assert_eq!(
            printable("a\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{7f}\u{0}"),
            "a\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{7f}\\u{0}"
        );
        assert_eq!(printable("l1\nl2\r\tx"), "l1\\nl2\\r\\tx");
        assert_eq!(
            printable("abc\u{202e}fed\u{2066}\u{2069}\u{2028}"),
            "abc\\u{202e}fed\\u{2066}\\u{2069}\\u{2028}"
        );
    }
}
