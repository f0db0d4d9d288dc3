//! `Level`, an event's severity, and its parse error.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How serious an event is. Serialized as `DEBUG`, `INFO`, `WARNING`,
/// `ERROR` or `CRITICAL`, as Agently does.
///
/// ```
/// use event_center::Level;
/// assert_eq!("warning".parse::<Level>().unwrap(), Level::Warning);
/// assert_eq!(Level::Error.as_str(), "ERROR");
/// assert!(Level::Critical > Level::Info);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation (the default).
    #[default]
    Info,
    /// Something unexpected that the run survived.
    Warning,
    /// A failure of one operation.
    Error,
    /// A failure of the whole run or process.
    Critical,
}

impl Level {
    /// The wire name: `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.
    ///
    /// ```
    /// assert_eq!(event_center::Level::Debug.as_str(), "DEBUG");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`Level`] from text that names no level.
///
/// ```
/// let err = "LOUD".parse::<event_center::Level>().unwrap_err();
/// assert!(err.to_string().contains("LOUD"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError {
    text: String,
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level {:?}: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
            self.text
        )
    }
}

impl StdError for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const ALL: [Level; 5] = [
            Level::Debug,
            Level::Info,
            Level::Warning,
            Level::Error,
            Level::Critical,
        ];
        ALL.into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLevelError { text: s.to_owned() })
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
