//! `Decisions`: the three standard decision points for the crate's own input
//! types, and how their decisions are described in events.

use serde_json::{json, Value};

use crate::center::EventCenter;
use crate::event::ErrorInfo;
use crate::text::SharedStr;

use super::*;

/// The three standard decision points of an agent framework, for the
/// crate's input types: trigger qualification ([`Trigger`] -> `bool`), error
/// disposition ([`ErrorInfo`] -> [`ErrorDisposition`]) and turn-end result
/// replacement ([`TurnEnd`] -> `Option<Value>`), emitting their decisions
/// as `decision.trigger.*`, `decision.error.*` and `decision.turn_end.*`
/// events with the input described under `payload.input`.
///
/// These are verdict hooks, separate from the center's observation hooks:
/// they change the flow, run in the caller's thread, and fail closed.
/// Cheap to clone (clones share the hooks); `Send` and `Sync`.
///
/// ```
/// use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter, Trigger, TurnEnd};
/// use serde_json::json;
///
/// let center = EventCenter::new();
/// let decisions = Decisions::new(&center);
/// decisions.on_trigger("needs-customer", |t: &Trigger| t.body.get("customer_id").is_some()).unwrap();
/// decisions.on_error("retryable-continues", |e: &ErrorInfo| {
///     if e.retryable == Some(true) { ErrorDisposition::Continue } else { ErrorDisposition::Throw }
/// }).unwrap();
/// decisions.on_turn_end("polite-refusal", |turn: &TurnEnd| {
///     (!turn.qualified).then(|| json!({"reply": "Sorry, I can't help with that."}))
/// }).unwrap();
///
/// let trigger = Trigger::new("webhook", json!({"message": "hi"}));
/// let qualification = decisions.qualify(&trigger);
/// assert!(!qualification.is_qualified());
/// let result = decisions.turn_end(TurnEnd::new(trigger, qualification.is_qualified(), json!(null)));
/// assert_eq!(result["reply"], "Sorry, I can't help with that.");
///
/// let flaky = ErrorInfo::new("Timeout", "no answer").with_retryable(true);
/// assert_eq!(decisions.dispose(&flaky), ErrorDisposition::Continue);
/// ```
#[derive(Clone, Debug)]
pub struct Decisions {
    trigger: DecisionPoint<Trigger, bool>,
    error: DecisionPoint<ErrorInfo, ErrorDisposition>,
    turn_end: DecisionPoint<TurnEnd, Option<Value>>,
}

impl Decisions {
    /// The three points, with no hooks, emitting through `center`.
    pub fn new(center: &EventCenter) -> Self {
        Decisions {
            trigger: DecisionPoint::described(
                center,
                SharedStr::from_static("trigger"),
                Some(describe_trigger),
            ),
            error: DecisionPoint::described(
                center,
                SharedStr::from_static("error"),
                Some(describe_error),
            ),
            turn_end: DecisionPoint::described(
                center,
                SharedStr::from_static("turn_end"),
                Some(describe_turn_end),
            ),
        }
    }

    /// Adds a trigger-qualification hook (Minded's `TRIGGER_EVENT` handler
    /// returning `{ isQualified }`); see [`DecisionPoint::qualify`].
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("only-webhooks", |t: &Trigger| t.name == "webhook").unwrap();
    /// assert!(!decisions.qualify(&Trigger::new("cron", serde_json::Value::Null)).is_qualified());
    /// ```
    pub fn on_trigger<F>(&self, name: impl Into<SharedStr>, hook: F) -> Result<(), DecisionError>
    where
        F: Fn(&Trigger) -> bool + Send + Sync + 'static,
    {
        self.trigger.on(name, hook)
    }

    /// Adds an error-disposition hook (Minded's `ERROR` handler returning
    /// `{ throwError }`); see [`DecisionPoint::dispose`].
    ///
    /// ```
    /// use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_error("swallow-all", |_: &ErrorInfo| ErrorDisposition::Continue).unwrap();
    /// assert_eq!(decisions.dispose(&ErrorInfo::new("E", "m")), ErrorDisposition::Continue);
    /// ```
    pub fn on_error<F>(&self, name: impl Into<SharedStr>, hook: F) -> Result<(), DecisionError>
    where
        F: Fn(&ErrorInfo) -> ErrorDisposition + Send + Sync + 'static,
    {
        self.error.on(name, hook)
    }

    /// Adds a turn-end hook that may replace the turn's result; see
    /// [`DecisionPoint::turn_end`].
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger, TurnEnd};
    /// use serde_json::json;
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_turn_end("stamp", |t: &TurnEnd| Some(json!({"answer": t.result, "v": 2}))).unwrap();
    /// let turn = TurnEnd::new(Trigger::new("chat", json!("q")), true, json!("a"));
    /// assert_eq!(decisions.turn_end(turn), json!({"answer": "a", "v": 2}));
    /// ```
    pub fn on_turn_end<F>(&self, name: impl Into<SharedStr>, hook: F) -> Result<(), DecisionError>
    where
        F: Fn(&TurnEnd) -> Option<Value> + Send + Sync + 'static,
    {
        self.turn_end.on(name, hook)
    }

    /// Whether `trigger` may start a turn; see [`DecisionPoint::qualify`].
    /// Emitted as `decision.trigger.qualified` or
    /// `decision.trigger.disqualified`.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// assert!(decisions.qualify(&Trigger::new("t", serde_json::Value::Null)).is_qualified());
    /// ```
    pub fn qualify(&self, trigger: &Trigger) -> Qualification {
        self.trigger.qualify(trigger)
    }

    /// Whether `error` is thrown or swallowed; see
    /// [`DecisionPoint::dispose`]. Emitted as `decision.error.thrown` or
    /// `decision.error.continued`, with the error under `payload.input`.
    ///
    /// ```
    /// use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// assert_eq!(decisions.dispose(&ErrorInfo::new("E", "m")), ErrorDisposition::Throw);
    /// ```
    pub fn dispose(&self, error: &ErrorInfo) -> ErrorDisposition {
        self.error.dispose(error)
    }

    /// The turn's final result; see [`DecisionPoint::turn_end`]. Emitted as
    /// `decision.turn_end.replaced` or `decision.turn_end.kept`, with the
    /// final result under `payload.input.result`.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger, TurnEnd};
    /// use serde_json::json;
    /// let decisions = Decisions::new(&EventCenter::new());
    /// let turn = TurnEnd::new(Trigger::new("t", json!(null)), true, json!(1));
    /// assert_eq!(decisions.turn_end(turn), json!(1));
    /// ```
    pub fn turn_end(&self, turn: TurnEnd) -> Value {
        self.turn_end.turn_end(turn)
    }

    /// The trigger-qualification point, for [`collect`](DecisionPoint::collect),
    /// [`remove`](DecisionPoint::remove) and
    /// [`hook_names`](DecisionPoint::hook_names).
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter, Trigger};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_trigger("a", |_: &Trigger| true).unwrap();
    /// assert_eq!(decisions.triggers().hook_names(), ["a"]);
    /// ```
    pub fn triggers(&self) -> &DecisionPoint<Trigger, bool> {
        &self.trigger
    }

    /// The error-disposition point.
    ///
    /// ```
    /// use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// decisions.on_error("a", |_: &ErrorInfo| ErrorDisposition::Throw).unwrap();
    /// assert!(decisions.errors().remove("a"));
    /// ```
    pub fn errors(&self) -> &DecisionPoint<ErrorInfo, ErrorDisposition> {
        &self.error
    }

    /// The turn-end point.
    ///
    /// ```
    /// use event_center::{Decisions, EventCenter};
    /// let decisions = Decisions::new(&EventCenter::new());
    /// assert_eq!(decisions.turn_ends().name(), "turn_end");
    /// ```
    pub fn turn_ends(&self) -> &DecisionPoint<TurnEnd, Option<Value>> {
        &self.turn_end
    }
}

fn describe_trigger(trigger: &Trigger) -> Value {
    json!({
        "trigger": trigger.name,
        "session_id": trigger.session_id,
        "body": trigger.body,
    })
}

fn describe_error(error: &ErrorInfo) -> Value {
    serde_json::to_value(error).unwrap_or(Value::Null)
}

fn describe_turn_end(turn: &TurnEnd) -> Value {
    json!({
        "trigger": turn.trigger.name,
        "session_id": turn.trigger.session_id,
        "qualified": turn.qualified,
        "result": turn.result,
    })
}
