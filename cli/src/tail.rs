//! `tail`: follows a server's `/observation/stream` (server-sent events)
//! and prints one line per event, reconnecting with a bounded backoff.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use event_center::{Event, Level, PatternSet, Patterns};
use serde_json::Value;

use crate::error::{printable, CliError};

/// The first reconnection delay; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A stream silent this long is taken as lost (the server sends a
/// keep-alive comment every 15 s).
const READ_TIMEOUT: Duration = Duration::from_secs(45);
/// How much of a payload a line shows.
const SUMMARY_CHARS: usize = 120;

/// `event-center tail [PATTERN]... [--url URL] [--run RUN_ID] [--api-key K]`.
#[derive(Args)]
pub(crate) struct TailArgs {
    /// Only events whose type matches one of these globs (`tool.*`,
    /// `model.?*`); every event when none is given.
    #[arg(value_name = "PATTERN")]
    patterns: Vec<String>,
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:15596")]
    url: String,
    /// Only the events of this run and its descendants.
    #[arg(long = "run", value_name = "RUN_ID")]
    run: Option<String>,
    /// The server's API key, if it requires one.
    #[arg(
        long,
        value_name = "KEY",
        env = "EVENT_CENTER_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
}

/// Why a connection ended.
enum Ended {
    /// The server could not be reached: try again after a growing backoff.
    Retry(String),
    /// A stream that was followed ended: try again after the first backoff.
    Lost(String),
    /// Stop: the server refused us, or standard output is closed.
    Stop(Result<(), CliError>),
}

pub(crate) fn run(args: TailArgs) -> Result<(), CliError> {
    let patterns = if args.patterns.is_empty() {
        Patterns::All
    } else {
        Patterns::from(args.patterns)
    };
    let filter = PatternSet::new(patterns)?;
    let base = args.url.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(CliError::Usage(format!(
            "--url `{}` is not an http:// or https:// URL; give the server's base URL, such as \
             http://127.0.0.1:15596",
            args.url
        )));
    }
    let stream_url = format!("{base}/observation/stream");
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout_read(READ_TIMEOUT)
        .build();
    let mut request = agent.get(&stream_url);
    if let Some(run) = &args.run {
        request = request.query("run_id", run);
    }
    if let Some(key) = &args.api_key {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    let color = io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let mut backoff = FIRST_BACKOFF;
    loop {
        let why = match follow(request.clone(), &stream_url, &filter, color) {
            Ended::Stop(result) => return result,
            Ended::Retry(why) => why,
            Ended::Lost(why) => {
                backoff = FIRST_BACKOFF;
                why
            }
        };
        eprintln!("tail: {why}; reconnecting in {} ms", backoff.as_millis());
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Reads one connection's events until it ends.
fn follow(request: ureq::Request, url: &str, filter: &PatternSet, color: bool) -> Ended {
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(401, _)) => {
            return Ended::Stop(Err(CliError::Usage(format!(
                "{url} refused the API key (401); pass the server's key with --api-key"
            ))))
        }
        Err(ureq::Error::Status(404, _)) => {
            return Ended::Stop(Err(CliError::Usage(format!(
                "{url} is not found (404); give the base URL of an event-center or Agently \
                 DevTools server"
            ))))
        }
        Err(ureq::Error::Status(status, _)) => {
            return Ended::Retry(format!("{url} answered {status}"))
        }
        Err(error) => return Ended::Retry(format!("cannot reach the server: {error}")),
    };
    eprintln!("tail: following {url}");
    let mut stdout = io::stdout().lock();
    let mut data = String::new();
    for line in BufReader::new(response.into_reader()).lines() {
        let line = match line {
            Ok(line) => line,
            Err(error) => return Ended::Lost(format!("the stream broke: {error}")),
        };
        if let Some(chunk) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(chunk.strip_prefix(' ').unwrap_or(chunk));
            continue;
        }
        if !line.is_empty() || data.is_empty() {
            continue; // a comment (keep-alive) or another field
        }
        let event = Event::parse(&data);
        data.clear();
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                eprintln!("tail: skipped a message that is not an event: {error}");
                continue;
            }
        };
        if !filter.matches(&event.event_type) {
            continue;
        }
        match writeln!(stdout, "{}", format_line(&event, color)) {
            Ok(()) => {}
            // The reader went away (`| head`): done.
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ended::Stop(Ok(())),
            Err(error) => {
                return Ended::Stop(Err(CliError::io(
                    "write to",
                    "standard output",
                    "check where it is redirected",
                )(error)))
            }
        }
    }
    Ended::Lost("the server closed the stream".to_owned())
}

/// `HH:MM:SS.mmm LEVEL type source run summary`, colored by level. Every
/// field from the event is [`printable`]: its control characters are
/// escaped, so the only ones on the line are the level's own colors.
fn format_line(event: &Event, color: bool) -> String {
    let ms = event.timestamp.rem_euclid(86_400_000);
    let run = event.run.as_ref().map_or("-", |run| {
        let id = run.run_id.as_str();
        id.char_indices()
            .rev()
            .nth(7)
            .map_or(id, |(start, _)| &id[start..])
    });
    let line = format!(
        "{:02}:{:02}:{:02}.{:03} {:<8} {:<28} {:<14} {:<8} {}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000,
        event.level,
        printable(&event.event_type),
        printable(&event.source),
        printable(run),
        summary(event)
    );
    let style = match event.level {
        Level::Debug => "2",
        Level::Warning => "33",
        Level::Error => "31",
        Level::Critical => "1;31",
        Level::Info => return line,
    };
    if color {
        format!("\x1b[{style}m{line}\x1b[0m")
    } else {
        line
    }
}

/// The message, else the error, else the payload, cut to a line's width,
/// line breaks as spaces and other control characters escaped.
fn summary(event: &Event) -> String {
    let text = match (&event.message, &event.error, &event.payload) {
        (Some(message), _, _) => message.to_string(),
        (None, Some(error), _) => format!("{}: {}", error.error_type, error.message),
        (None, None, Value::Null) => String::new(),
        (None, None, payload) => payload.to_string(),
    };
    let flat = text.replace(['\n', '\r'], " ");
    match flat.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", printable(&flat[..cut])),
        None => printable(&flat).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_center::{ErrorInfo, RunContext};
    use serde_json::json;

    /// Terminal escapes an event might carry: retitle, clear, a C1 CSI,
    /// DEL, a bell, a bidirectional override.
    const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b[H\u{9b}31m\u{7f}\u{202e}";

    /// Every character a terminal acts on, outside the line's own colors.
    fn controls(line: &str) -> Vec<char> {
        let line = line.strip_prefix("\x1b[31m").unwrap_or(line);
        let line = line.strip_suffix("\x1b[0m").unwrap_or(line);
        line.chars()
            .filter(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(c))
            .collect()
    }

    fn hostile_event() -> Event {
        let mut run = RunContext::new("agent_execution");
        run.run_id = format!("run{HOSTILE}");
        Event::new(format!("tool.{HOSTILE}"))
            .with_source(format!("src{HOSTILE}"))
            .with_run(run)
            .with_message(format!("msg{HOSTILE}\nnext"))
    }

    #[test]
    fn every_field_of_a_hostile_event_is_printed_escaped() {
        let event = hostile_event();
        for color in [false, true] {
            let line = format_line(&event, color);
            assert_eq!(controls(&line), Vec::<char>::new(), "{line:?}");
            assert!(
                line.contains("tool.\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"),
                "{line:?}"
            );
            assert!(line.contains("src\\u{1b}]0;"), "{line:?}");
            assert!(line.contains("msg\\u{1b}]0;pwned"), "{line:?}");
            assert!(line.contains("\\u{9b}31m\\u{7f}\\u{202e} next"), "{line:?}");
        }
    }

    #[test]
    fn a_hostile_payload_or_error_is_escaped_and_the_level_color_kept() {
        let event = Event::new("a.b")
            .with_level(Level::Error)
            .with_payload(json!({ "k": format!("v{HOSTILE}") }));
        let line = format_line(&event, true);
        assert!(
            line.starts_with("\x1b[31m") && line.ends_with("\x1b[0m"),
            "{line:?}"
        );
        assert_eq!(controls(&line), Vec::<char>::new(), "{line:?}");

        let mut error = ErrorInfo::new("Boom", format!("bad{HOSTILE}"));
        error.error_type = format!("Err{HOSTILE}");
        let event = Event::new("a.b").with_error(error);
        let line = format_line(&event, false);
        assert_eq!(controls(&line), Vec::<char>::new(), "{line:?}");
        assert!(line.contains("Err\\u{1b}]0;"), "{line:?}");
    }

    #[test]
    fn a_long_hostile_summary_is_cut_then_escaped_whole() {
        let event = Event::new("a.b").with_message("\x1b".repeat(SUMMARY_CHARS + 5));
        let line = format_line(&event, false);
        assert_eq!(controls(&line), Vec::<char>::new(), "{line:?}");
        assert!(line.ends_with(&format!("{}…", "\\u{1b}".repeat(SUMMARY_CHARS))));
    }
}
