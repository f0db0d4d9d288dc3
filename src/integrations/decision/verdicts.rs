//! What verdict hooks receive and answer: `Trigger`, `Qualification`,
//! `ErrorDisposition`, `TurnEnd`, and `VerdictAnswer` for `collect`.

use serde_json::Value;

use crate::event::ErrorInfo;

#[cfg(doc)]
use super::DecisionPoint;

/// The verdict of an error-disposition hook, and of the fold: throw the
/// error (stop), or swallow it and continue. Minded's `{ throwError }`.
///
/// ```
/// use event_center::ErrorDisposition;
/// assert!(ErrorDisposition::Throw.is_throw());
/// assert!(!ErrorDisposition::Continue.is_throw());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorDisposition {
    /// Rethrow the error and stop: the default, and what a failing hook
    /// means.
    Throw,
    /// Swallow the error and go on.
    Continue,
}

impl ErrorDisposition {
    /// Whether the error is to be thrown.
    ///
    /// ```
    /// assert!(event_center::ErrorDisposition::Throw.is_throw());
    /// ```
    pub fn is_throw(self) -> bool {
        matches!(self, ErrorDisposition::Throw)
    }
}

/// The outcome of [`DecisionPoint::qualify`]: whether the trigger is
/// qualified, and which hooks disqualified it.
///
/// ```
/// use event_center::{Decisions, EventCenter, Trigger};
/// let decisions = Decisions::new(&EventCenter::new());
/// decisions.on_trigger("closed", |_: &Trigger| false).unwrap();
/// let q = decisions.qualify(&Trigger::new("webhook", serde_json::json!({})));
/// assert!(!q.is_qualified());
/// assert_eq!(q.disqualified_by(), ["closed"]);
/// assert_eq!(q.hook_count(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qualification {
    pub(super) qualified: bool,
    pub(super) disqualified_by: Vec<String>,
    pub(super) failed: Vec<String>,
    pub(super) hooks: usize,
}

impl Qualification {
    /// Whether the trigger may start a turn.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// assert!(decisions.qualify(&Trigger::new("cron", serde_json::Value::Null)).is_qualified());
    /// ```
    pub fn is_qualified(&self) -> bool {
        self.qualified
    }

    /// The hooks that disqualified the trigger, in registration order: those
    /// that answered `false` and those that panicked.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("open", |_: &Trigger| true).unwrap();
    /// decisions.on_trigger("closed", |_: &Trigger| false).unwrap();
    /// let q = decisions.qualify(&Trigger::new("webhook", serde_json::Value::Null));
    /// assert_eq!(q.disqualified_by(), ["closed"]);
    /// ```
    pub fn disqualified_by(&self) -> &[String] {
        &self.disqualified_by
    }

    /// The hooks that panicked (and so disqualified), in registration order.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("buggy", |_: &Trigger| -> bool { panic!("oops") }).unwrap();
    /// let q = decisions.qualify(&Trigger::new("webhook", serde_json::Value::Null));
    /// assert_eq!(q.failed(), ["buggy"]);
    /// ```
    pub fn failed(&self) -> &[String] {
        &self.failed
    }

    /// How many hooks were asked.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// assert_eq!(decisions.qualify(&Trigger::new("t", serde_json::Value::Null)).hook_count(), 0);
    /// ```
    pub fn hook_count(&self) -> usize {
        self.hooks
    }
}

/// One hook's answer, from [`DecisionPoint::collect`]: the value, or the
/// [`ErrorInfo`] of its panic.
///
/// ```
/// use event_center::{DecisionPoint, EventCenter};
/// let point: DecisionPoint<u8, u8> = DecisionPoint::new(&EventCenter::new(), "score");
/// point.on("double", |n: &u8| n * 2).unwrap();
/// let answer = point.collect(&21).remove(0);
/// assert_eq!(answer.hook(), "double");
/// assert_eq!(answer.into_result(), Ok(42));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictAnswer<Out> {
    pub(super) hook: String,
    pub(super) result: Result<Out, Box<ErrorInfo>>,
}

impl<Out> VerdictAnswer<Out> {
    /// The hook's name.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<(), bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("yes", |_: &()| true).unwrap();
    /// assert_eq!(point.collect(&())[0].hook(), "yes");
    /// ```
    pub fn hook(&self) -> &str {
        &self.hook
    }

    /// The answer, or what the hook's panic said.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<(), bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("yes", |_: &()| true).unwrap();
    /// assert_eq!(point.collect(&())[0].result(), &Ok(true));
    /// ```
    pub fn result(&self) -> &Result<Out, Box<ErrorInfo>> {
        &self.result
    }

    /// The answer, or what the hook's panic said, by value.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<(), bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("boom", |_: &()| -> bool { panic!("boom") }).unwrap();
    /// let failure = point.collect(&()).remove(0).into_result().unwrap_err();
    /// assert_eq!(failure.error_type, "panic");
    /// ```
    pub fn into_result(self) -> Result<Out, Box<ErrorInfo>> {
        self.result
    }
}

/// A trigger asking to start a turn, as Minded's `TRIGGER_EVENT` sees it:
/// the trigger's name, its body (a webhook's payload, a chat message) and
/// the session it belongs to, if known.
///
/// ```
/// use event_center::Trigger;
/// use serde_json::json;
/// let trigger = Trigger::new("zendesk_ticket", json!({"ticket": 42})).with_session_id("s-1");
/// assert_eq!(trigger.name, "zendesk_ticket");
/// assert_eq!(trigger.body["ticket"], 42);
/// assert_eq!(trigger.session_id.as_deref(), Some("s-1"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Trigger {
    /// The trigger's name (Minded's `triggerName`).
    pub name: String,
    /// What the trigger carries (Minded's `triggerBody`).
    pub body: Value,
    /// The session the turn belongs to, if known.
    pub session_id: Option<String>,
}

impl Trigger {
    /// A trigger of that name and body, with no session.
    pub fn new(name: impl Into<String>, body: Value) -> Self {
        Trigger {
            name: name.into(),
            body,
            session_id: None,
        }
    }

    /// Sets the session id.
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }
}

/// A turn that has ended, as turn-end hooks see it: the trigger that started
/// it, whether that trigger was qualified, and the result so far (the
/// previous hook's replacement, or the turn's own result for the first
/// hook).
///
/// ```
/// use event_center::{Trigger, TurnEnd};
/// use serde_json::json;
/// let turn = TurnEnd::new(Trigger::new("chat", json!("hi")), false, json!({"reply": null}));
/// assert!(!turn.qualified);
/// assert_eq!(turn.result["reply"], json!(null));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TurnEnd<R = Value> {
    /// The trigger that started the turn.
    pub trigger: Trigger,
    /// Whether the trigger was qualified: turn-end hooks run for
    /// disqualified turns too.
    pub qualified: bool,
    /// The result so far.
    pub result: R,
}

impl<R> TurnEnd<R> {
    /// A turn started by `trigger` that ended with `result`.
    ///
    /// ```
    /// use event_center::{Trigger, TurnEnd};
    /// let turn = TurnEnd::new(Trigger::new("cron", serde_json::Value::Null), true, 7);
    /// assert_eq!(turn.result, 7);
    /// ```
    pub fn new(trigger: Trigger, qualified: bool, result: R) -> Self {
        TurnEnd {
            trigger,
            qualified,
            result,
        }
    }
}
