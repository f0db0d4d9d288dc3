//! Event-type patterns: exact names by hash lookup, globs compiled once.

use std::collections::HashSet;
use std::fmt;

/// One compiled event-type pattern.
///
/// The syntax is the `glob` crate's, applied to dotted names: `*` matches any
/// run of characters, dots included; `?` one character; `[abc]`, `[a-z]` and
/// `[!abc]` one character of (or not of) a class. A pattern with none of these
/// is an exact name. Brace alternatives (`{a,b}`), which `glob` would take
/// literally without a word, are rejected.
///
/// ```
/// use event_center::Pattern;
///
/// let p = Pattern::new("action.*").unwrap();
/// assert!(p.matches("action.loop_started"));
/// assert!(p.matches("action.loop.nested"));
/// assert!(!p.matches("tool.loop_started"));
/// assert!(Pattern::new("model.completed").unwrap().is_exact());
/// ```
#[derive(Clone, Debug)]
pub struct Pattern {
    text: Box<str>,
    glob: Option<glob::Pattern>,
}

impl Pattern {
    /// Compiles a pattern, or says which part of it is wrong.
    ///
    /// ```
    /// use event_center::{Pattern, PatternErrorKind};
    /// let err = Pattern::new("model.{request,response}").unwrap_err();
    /// assert_eq!(err.pattern(), "model.{request,response}");
    /// assert_eq!(err.kind(), &PatternErrorKind::Braces);
    /// assert!(Pattern::new("tool.[").is_err());
    /// ```
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        let error = |kind| PatternError {
            pattern: text.to_owned(),
            kind,
        };
        if text.is_empty() {
            return Err(error(PatternErrorKind::Empty));
        }
        if text.contains(['{', '}']) {
            return Err(error(PatternErrorKind::Braces));
        }
        let glob = if text.contains(['*', '?', '[', ']']) {
            let compiled = glob::Pattern::new(text).map_err(|e| {
                error(PatternErrorKind::Syntax {
                    position: e.pos,
                    reason: e.msg,
                })
            })?;
            Some(compiled)
        } else {
            None
        };
        Ok(Pattern {
            text: text.into(),
            glob,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is an exact name (no glob metacharacter).
    ///
    /// ```
    /// assert!(!event_center::Pattern::new("a.?").unwrap().is_exact());
    /// ```
    pub fn is_exact(&self) -> bool {
        self.glob.is_none()
    }

    /// Whether the pattern matches this event type (aliases not considered;
    /// see [`PatternSet::matches`]).
    ///
    /// ```
    /// let p = event_center::Pattern::new("model.request_?").unwrap();
    /// assert!(p.matches("model.request_1"));
    /// assert!(!p.matches("model.request_12"));
    /// ```
    pub fn matches(&self, event_type: &str) -> bool {
        match &self.glob {
            Some(glob) => glob.matches(event_type),
            None => *self.text == *event_type,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a hook subscribes to, before it is compiled: every event, nothing,
/// or a list of patterns. Built from a `&str`, a `String`, arrays, slices and
/// `Vec`s of either, or `Option`s of those (`None` = every event, as in
/// Agently).
///
/// ```
/// use event_center::Patterns;
///
/// let all = Patterns::All;
/// let nothing = Patterns::none();
/// let one: Patterns = "action.*".into();
/// let many: Patterns = ["model.*", "tool.called"].into();
/// let agently_style: Patterns = None::<Vec<String>>.into();
/// assert_eq!(agently_style, Patterns::All);
/// assert_eq!(many, Patterns::List(vec!["model.*".into(), "tool.called".into()]));
/// # let _ = (all, nothing, one);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Patterns {
    /// Every event.
    All,
    /// Events matching any of these patterns; an empty list matches nothing.
    List(Vec<String>),
}

impl Patterns {
    /// Matches no event at all (an empty list).
    ///
    /// ```
    /// assert_eq!(event_center::Patterns::none(), event_center::Patterns::List(vec![]));
    /// ```
    pub fn none() -> Patterns {
        Patterns::List(Vec::new())
    }
}

impl From<&str> for Patterns {
    fn from(p: &str) -> Self {
        Patterns::List(vec![p.to_owned()])
    }
}

impl From<String> for Patterns {
    fn from(p: String) -> Self {
        Patterns::List(vec![p])
    }
}

impl From<&String> for Patterns {
    fn from(p: &String) -> Self {
        Patterns::List(vec![p.clone()])
    }
}

impl<S: AsRef<str>> From<&[S]> for Patterns {
    fn from(list: &[S]) -> Self {
        Patterns::List(list.iter().map(|p| p.as_ref().to_owned()).collect())
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for Patterns {
    fn from(list: [S; N]) -> Self {
        Patterns::List(list.iter().map(|p| p.as_ref().to_owned()).collect())
    }
}

impl<S: AsRef<str>> From<Vec<S>> for Patterns {
    fn from(list: Vec<S>) -> Self {
        Patterns::List(list.iter().map(|p| p.as_ref().to_owned()).collect())
    }
}

impl<T: Into<Patterns>> From<Option<T>> for Patterns {
    fn from(list: Option<T>) -> Self {
        list.map_or(Patterns::All, Into::into)
    }
}

/// A hook's compiled patterns: exact names in a hash set, globs in a list.
///
/// ```
/// use event_center::PatternSet;
///
/// let set = PatternSet::new(["model.completed", "tool.*"]).unwrap();
/// assert!(set.matches("model.completed"));
/// assert!(set.matches("tool.called"));
/// assert!(!set.matches("model.requesting"));
/// assert!(!PatternSet::new(Vec::<String>::new()).unwrap().matches("anything"));
/// ```
#[derive(Clone, Debug)]
pub struct PatternSet {
    all: bool,
    exact: HashSet<Box<str>, foldhash::fast::RandomState>,
    globs: Vec<Pattern>,
}

impl PatternSet {
    /// Compiles every pattern; the first bad one is the error.
    ///
    /// ```
    /// let err = event_center::PatternSet::new(["ok.*", "bad.["]).unwrap_err();
    /// assert_eq!(err.pattern(), "bad.[");
    /// ```
    pub fn new(patterns: impl Into<Patterns>) -> Result<PatternSet, PatternError> {
        let mut set = PatternSet {
            all: false,
            exact: HashSet::default(),
            globs: Vec::new(),
        };
        match patterns.into() {
            Patterns::All => set.all = true,
            Patterns::List(list) => {
                for text in list {
                    let pattern = Pattern::new(&text)?;
                    if pattern.is_exact() {
                        set.exact.insert(pattern.text);
                    } else {
                        set.globs.push(pattern);
                    }
                }
            }
        }
        Ok(set)
    }

    /// Whether this set matches every event.
    ///
    /// ```
    /// use event_center::{PatternSet, Patterns};
    /// assert!(PatternSet::new(Patterns::All).unwrap().is_all());
    /// ```
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Whether any pattern matches this event type.
    ///
    /// ```
    /// let set = event_center::PatternSet::new("workflow.*").unwrap();
    /// assert!(set.matches("workflow.execution_started"));
    /// ```
    pub fn matches(&self, event_type: &str) -> bool {
        self.all
            || self.exact.contains(event_type)
            || self.globs.iter().any(|g| g.matches(event_type))
    }
}

/// A pattern that cannot be compiled: names the pattern and says why.
///
/// ```
/// let err = event_center::Pattern::new("a.**.b").unwrap_err();
/// assert!(err.to_string().contains("a.**.b"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pattern: String,
    kind: PatternErrorKind,
}

/// Why a pattern was rejected; see [`PatternError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// The pattern is the empty string.
    Empty,
    /// The pattern uses `{a,b}` alternatives, which the glob syntax does not
    /// have (list the alternatives as separate patterns instead).
    Braces,
    /// The glob syntax is broken at `position`.
    Syntax {
        /// The character index where the syntax breaks.
        position: usize,
        /// The glob parser's reason.
        reason: &'static str,
    },
}

impl PatternError {
    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Why it was rejected.
    ///
    /// ```
    /// use event_center::{Pattern, PatternErrorKind};
    /// assert_eq!(Pattern::new("").unwrap_err().kind(), &PatternErrorKind::Empty);
    /// ```
    pub fn kind(&self) -> &PatternErrorKind {
        &self.kind
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pattern = &self.pattern;
        match &self.kind {
            PatternErrorKind::Empty => {
                write!(f, "empty event pattern: name an event type, or use a list with no patterns to match nothing")
            }
            PatternErrorKind::Braces => write!(
                f,
                "invalid event pattern `{pattern}`: brace alternatives {{a,b}} are not supported; \
                 register one pattern per alternative instead"
            ),
            PatternErrorKind::Syntax { position, reason } if reason.contains("recursive") => {
                write!(
                    f,
                    "invalid event pattern `{pattern}` at character {position}: {reason}; \
                 `*` already matches across dots, so use a single `*`"
                )
            }
            PatternErrorKind::Syntax { position, reason } => {
                write!(
                    f,
                    "invalid event pattern `{pattern}` at character {position}: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for PatternError {}
