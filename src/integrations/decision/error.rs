//! `DecisionError`: a verdict hook that could not be added.

use std::fmt;

/// A verdict hook that could not be added: names the point and the hook,
/// and says why.
///
/// ```
/// use event_center::{Decisions, DecisionErrorKind, EventCenter, Trigger};
/// let decisions = Decisions::new(&EventCenter::new());
/// let err = decisions.on_trigger("  ", |_: &Trigger| true).unwrap_err();
/// assert_eq!(err.point(), "trigger");
/// assert_eq!(err.kind(), &DecisionErrorKind::EmptyName);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionError {
    pub(super) point: String,
    pub(super) hook: String,
    pub(super) kind: DecisionErrorKind,
}

/// Why a verdict hook could not be added; see [`DecisionError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecisionErrorKind {
    /// The point has a hook of that name already.
    DuplicateName,
    /// The name is empty or blank.
    EmptyName,
}

impl DecisionError {
    /// The decision point's name.
    ///
    /// ```
    /// use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_error("h", |_: &ErrorInfo| ErrorDisposition::Throw).unwrap();
    /// let err = decisions.on_error("h", |_: &ErrorInfo| ErrorDisposition::Throw).unwrap_err();
    /// assert_eq!(err.point(), "error");
    /// ```
    pub fn point(&self) -> &str {
        &self.point
    }

    /// The hook's name.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("h", |_: &Trigger| true).unwrap();
    /// assert_eq!(decisions.on_trigger("h", |_: &Trigger| true).unwrap_err().hook(), "h");
    /// ```
    pub fn hook(&self) -> &str {
        &self.hook
    }

    /// Why it was refused.
    ///
    /// ```
    /// use event_center::{DecisionErrorKind, Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("h", |_: &Trigger| true).unwrap();
    /// let err = decisions.on_trigger("h", |_: &Trigger| true).unwrap_err();
    /// assert_eq!(err.kind(), &DecisionErrorKind::DuplicateName);
    /// ```
    pub fn kind(&self) -> &DecisionErrorKind {
        &self.kind
    }
}

impl fmt::Display for DecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (point, hook) = (&self.point, &self.hook);
        match &self.kind {
            DecisionErrorKind::DuplicateName => write!(
                f,
                "decision point `{point}` already has a hook named `{hook}`: remove it first, or pick another name"
            ),
            DecisionErrorKind::EmptyName => write!(
                f,
                "a hook of decision point `{point}` needs a non-blank name"
            ),
        }
    }
}

impl std::error::Error for DecisionError {}
