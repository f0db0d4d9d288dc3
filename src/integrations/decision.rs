//! Decision hooks (the Minded model): hooks that return typed verdicts at a
//! framework's decision points, kept apart from observation hooks.
//!
//! Observation hooks see what happened and cannot change it. Some points of
//! an agent's flow need hooks that decide: whether a trigger is qualified to
//! start a turn, whether an error is thrown or swallowed, what result a turn
//! ends with. Minded's agent SDK has exactly these three (`TRIGGER_EVENT`
//! handlers returning `{ isQualified }`, `ERROR` handlers returning
//! `{ throwError }`, and turn-end handlers that may replace the result).
//!
//! A [`DecisionPoint`] holds the verdict hooks of one point, in registration
//! order; its folds (`qualify`, `dispose`, `turn_end`) call every hook in the
//! caller's thread and combine the answers, and [`DecisionPoint::collect`]
//! hands back every answer for callers that fold themselves. [`Decisions`]
//! bundles the three standard points for the crate's own input types.
//!
//! Verdict hooks fail closed: a panic disqualifies, rethrows, or keeps the
//! previous result, and is reported as `event_center.hook_failed`. Every
//! decision is also emitted through the center as a `decision.<point>.<verdict>`
//! event (nothing is built when no hook listens).

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use serde_json::{json, Value};

use crate::center::EventCenter;
use crate::dispatch::report_verdict_failure;
use crate::event::{ErrorInfo, Event};
use crate::run::TaskScope;
use crate::text::SharedStr;

/// The source stamped on decision events.
const SOURCE: &str = "decisions";

/// The event types of the standard points, kept as literals so an emit
/// nobody listens to takes the center's fastest path.
const STANDARD_TYPES: &[&str] = &[
    "decision.trigger.qualified",
    "decision.trigger.disqualified",
    "decision.trigger.collected",
    "decision.error.thrown",
    "decision.error.continued",
    "decision.error.collected",
    "decision.turn_end.replaced",
    "decision.turn_end.kept",
    "decision.turn_end.collected",
];

type VerdictFn<In, Out> = dyn Fn(&In) -> Out + Send + Sync;

/// One registered verdict hook.
struct VerdictHook<In, Out> {
    name: SharedStr,
    call: Box<VerdictFn<In, Out>>,
}

impl<In, Out> VerdictHook<In, Out> {
    /// Calls the hook with its panic caught.
    fn answer(&self, input: &In) -> Result<Out, Box<ErrorInfo>> {
        catch_unwind(AssertUnwindSafe(|| (self.call)(input)))
            .map_err(|panic| Box::new(ErrorInfo::from_panic(&*panic)))
    }
}

/// What [`DecisionPoint::ask_every_hook`] found.
struct Verdicts<In, Out> {
    hooks: Arc<Vec<Arc<VerdictHook<In, Out>>>>,
    decided_by: Vec<String>,
    failures: Vec<(SharedStr, Box<ErrorInfo>)>,
}

/// The event types one point emits, built once.
struct EventTypes {
    qualified: SharedStr,
    disqualified: SharedStr,
    thrown: SharedStr,
    continued: SharedStr,
    replaced: SharedStr,
    kept: SharedStr,
    collected: SharedStr,
}

impl EventTypes {
    fn new(point: &str) -> EventTypes {
        let event_type = |verdict: &str| {
            let name = format!("decision.{point}.{verdict}");
            match STANDARD_TYPES.iter().find(|s| **s == name) {
                Some(literal) => SharedStr::from_static(literal),
                None => SharedStr::from(name),
            }
        };
        EventTypes {
            qualified: event_type("qualified"),
            disqualified: event_type("disqualified"),
            thrown: event_type("thrown"),
            continued: event_type("continued"),
            replaced: event_type("replaced"),
            kept: event_type("kept"),
            collected: event_type("collected"),
        }
    }
}

struct PointInner<In, Out> {
    name: SharedStr,
    /// The hooks in registration order: a snapshot swapped on change, so a
    /// decision never waits for a registration and hooks may register or
    /// remove hooks from inside their calls.
    hooks: ArcSwap<Vec<Arc<VerdictHook<In, Out>>>>,
    /// Serializes registrations and removals.
    writer: Mutex<()>,
    center: EventCenter,
    /// What the decision events say about the input, under `input`.
    describe: Option<fn(&In) -> Value>,
    types: EventTypes,
}

/// One decision point: verdict hooks that take `&In` and answer `Out`, run
/// in registration order in the caller's thread.
///
/// The folds are methods of the points whose answers they know how to
/// combine: [`qualify`](DecisionPoint::qualify) for `bool` answers,
/// [`dispose`](DecisionPoint::dispose) for [`ErrorDisposition`] answers and
/// [`turn_end`](DecisionPoint::turn_end) for `Option<R>` answers to a
/// [`TurnEnd<R>`]; [`collect`](DecisionPoint::collect) works for any point.
/// A framework with its own trigger, error or result types makes its own
/// points; [`Decisions`] bundles the three standard ones for the crate's
/// types.
///
/// Each decision is emitted through the center as an event of type
/// `decision.<point>.<verdict>` (see the fold methods), with the current run
/// (see [`RunContext::scope`](crate::RunContext::scope)) and source
/// `decisions`; its payload says `point`, `verdict`, `hooks` (how many were
/// asked), `decided_by` (the hooks whose answers made the verdict, in
/// registration order) and `failed` (the hooks that panicked).
///
/// Cheap to clone: clones share the hooks. `Send` and `Sync`.
///
/// ```
/// use event_center::{DecisionPoint, EventCenter};
///
/// struct Refund { amount: u32 }
///
/// let center = EventCenter::new();
/// let approval: DecisionPoint<Refund, bool> = DecisionPoint::new(&center, "refund");
/// approval.on("limit", |r: &Refund| r.amount <= 500).unwrap();
/// approval.on("business-hours", |_: &Refund| true).unwrap();
///
/// assert!(approval.qualify(&Refund { amount: 120 }).is_qualified());
/// let refused = approval.qualify(&Refund { amount: 900 });
/// assert_eq!(refused.disqualified_by(), ["limit"]);
/// ```
pub struct DecisionPoint<In, Out> {
    inner: Arc<PointInner<In, Out>>,
}

impl<In, Out> Clone for DecisionPoint<In, Out> {
    fn clone(&self) -> Self {
        DecisionPoint {
            inner: self.inner.clone(),
        }
    }
}

impl<In, Out> fmt::Debug for DecisionPoint<In, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecisionPoint")
            .field("name", &self.inner.name)
            .field("hooks", &self.hook_names())
            .finish()
    }
}

impl<In, Out> DecisionPoint<In, Out> {
    /// A point named `name` with no hooks, emitting its decisions through
    /// `center` as `decision.<name>.<verdict>` events.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<String, bool> = DecisionPoint::new(&EventCenter::new(), "handoff");
    /// assert_eq!(point.name(), "handoff");
    /// assert!(point.is_empty());
    /// ```
    pub fn new(center: &EventCenter, name: impl Into<SharedStr>) -> Self {
        Self::described(center, name.into(), None)
    }

    fn described(
        center: &EventCenter,
        name: SharedStr,
        describe: Option<fn(&In) -> Value>,
    ) -> Self {
        DecisionPoint {
            inner: Arc::new(PointInner {
                types: EventTypes::new(&name),
                name,
                hooks: ArcSwap::from_pointee(Vec::new()),
                writer: Mutex::new(()),
                center: center.clone(),
                describe,
            }),
        }
    }

    /// The point's name, the middle part of its event types.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u8, bool> = DecisionPoint::new(&EventCenter::new(), "escalation");
    /// assert_eq!(point.name(), "escalation");
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Adds a verdict hook after the others. The name identifies it in
    /// results, events and failure reports; a blank name or one the point
    /// already has is a [`DecisionError`], and the point is left unchanged.
    ///
    /// ```
    /// use event_center::{DecisionErrorKind, DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u32, bool> = DecisionPoint::new(&EventCenter::new(), "retry");
    /// point.on("budget", |attempt: &u32| *attempt < 3).unwrap();
    /// let err = point.on("budget", |_: &u32| true).unwrap_err();
    /// assert_eq!(err.kind(), &DecisionErrorKind::DuplicateName);
    /// assert_eq!(point.hook_names(), ["budget"]);
    /// ```
    pub fn on<F>(&self, name: impl Into<SharedStr>, hook: F) -> Result<(), DecisionError>
    where
        F: Fn(&In) -> Out + Send + Sync + 'static,
    {
        let name = name.into();
        let error = |kind| DecisionError {
            point: self.inner.name.to_string(),
            hook: name.to_string(),
            kind,
        };
        if name.trim().is_empty() {
            return Err(error(DecisionErrorKind::EmptyName));
        }
        let _writer = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.inner.hooks.load_full();
        if current.iter().any(|h| h.name == name) {
            return Err(error(DecisionErrorKind::DuplicateName));
        }
        let mut hooks = Vec::with_capacity(current.len() + 1);
        hooks.extend(current.iter().cloned());
        hooks.push(Arc::new(VerdictHook {
            name: name.clone(),
            call: Box::new(hook),
        }));
        self.inner.hooks.store(Arc::new(hooks));
        Ok(())
    }

    /// Removes the hook of that name; whether there was one. A decision
    /// already under way still asks it.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u8, bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("gate", |_: &u8| false).unwrap();
    /// assert!(point.remove("gate"));
    /// assert!(!point.remove("gate"));
    /// assert!(point.qualify(&1).is_qualified());
    /// ```
    pub fn remove(&self, name: &str) -> bool {
        let _writer = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.inner.hooks.load_full();
        if !current.iter().any(|h| h.name == name) {
            return false;
        }
        let hooks = current.iter().filter(|h| h.name != name).cloned().collect();
        self.inner.hooks.store(Arc::new(hooks));
        true
    }

    /// The hooks' names, in registration order.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u8, bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("first", |_: &u8| true).unwrap();
    /// point.on("second", |_: &u8| true).unwrap();
    /// assert_eq!(point.hook_names(), ["first", "second"]);
    /// ```
    pub fn hook_names(&self) -> Vec<String> {
        self.inner
            .hooks
            .load()
            .iter()
            .map(|h| h.name.to_string())
            .collect()
    }

    /// How many hooks the point has.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u8, bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// point.on("only", |_: &u8| true).unwrap();
    /// assert_eq!(point.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.hooks.load().len()
    }

    /// Whether the point has no hooks.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<u8, bool> = DecisionPoint::new(&EventCenter::new(), "p");
    /// assert!(point.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.hooks.load().is_empty()
    }

    /// Asks every hook, in registration order, and returns every answer:
    /// the value, or the [`ErrorInfo`] of the hook's panic. For callers that
    /// fold the answers themselves. Emitted as `decision.<point>.collected`
    /// (`decided_by` lists the hooks that answered); panics are reported as
    /// `event_center.hook_failed`.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    ///
    /// let center = EventCenter::new();
    /// let routing: DecisionPoint<String, &'static str> = DecisionPoint::new(&center, "routing");
    /// routing.on("billing", |q: &String| if q.contains("invoice") { "billing" } else { "" }).unwrap();
    /// routing.on("broken", |_: &String| -> &'static str { panic!("no model") }).unwrap();
    /// routing.on("fallback", |_: &String| "support").unwrap();
    ///
    /// let answers = routing.collect(&"where is my invoice?".to_string());
    /// assert_eq!(answers.len(), 3);
    /// assert_eq!((answers[0].hook(), answers[0].result()), ("billing", &Ok("billing")));
    /// assert_eq!(answers[1].result().as_ref().unwrap_err().message, "no model");
    /// assert_eq!(answers[2].result(), &Ok("support"));
    /// ```
    pub fn collect(&self, input: &In) -> Vec<VerdictAnswer<Out>> {
        let hooks = self.inner.hooks.load_full();
        let mut answers = Vec::with_capacity(hooks.len());
        let mut failures = Vec::new();
        for hook in hooks.iter() {
            let result = hook.answer(input);
            if let Err(error) = &result {
                failures.push((hook.name.clone(), error.clone()));
            }
            answers.push(VerdictAnswer {
                hook: hook.name.to_string(),
                result,
            });
        }
        let answered = answers
            .iter()
            .filter(|a| a.result.is_ok())
            .map(|a| a.hook.clone());
        self.decided(
            &self.inner.types.collected,
            "collected",
            input,
            hooks.len(),
            || answered.collect(),
            failures,
        );
        answers
    }

    /// Asks every hook, in registration order: the names of those whose
    /// answer `decides` the fold, and of those that failed (verdict hooks
    /// fail closed: a failure decides too), with the failures.
    fn ask_every_hook(&self, input: &In, decides: impl Fn(&Out) -> bool) -> Verdicts<In, Out> {
        let hooks = self.inner.hooks.load_full();
        let mut decided_by = Vec::new();
        let mut failures = Vec::new();
        for hook in hooks.iter() {
            match hook.answer(input) {
                Ok(answer) if !decides(&answer) => {}
                Ok(_) => decided_by.push(hook.name.to_string()),
                Err(error) => {
                    decided_by.push(hook.name.to_string());
                    failures.push((hook.name.clone(), error));
                }
            }
        }
        Verdicts {
            hooks,
            decided_by,
            failures,
        }
    }

    /// Emits the decision event (when some hook listens) and reports each
    /// failure as `event_center.hook_failed`, naming the decision event.
    fn decided(
        &self,
        event_type: &SharedStr,
        verdict: &str,
        input: &In,
        hooks: usize,
        decided_by: impl FnOnce() -> Vec<String>,
        failures: Vec<(SharedStr, Box<ErrorInfo>)>,
    ) {
        let center = &self.inner.center;
        let listened = center.listens_to(event_type);
        if !listened && failures.is_empty() {
            return;
        }
        let decided_by = decided_by();
        let point = &*self.inner.name;
        let mut message = format!("{point}: {verdict}");
        if !decided_by.is_empty() {
            let names: Vec<String> = decided_by.iter().map(|n| format!("`{n}`")).collect();
            message.push_str(if verdict == "collected" {
                " from "
            } else {
                " by "
            });
            message.push_str(&names.join(", "));
        }
        let failed: Vec<&str> = failures.iter().map(|(name, _)| &**name).collect();
        let mut payload = json!({
            "point": point,
            "verdict": verdict,
            "hooks": hooks,
            "decided_by": decided_by,
            "failed": failed,
        });
        if let (Some(describe), Some(fields)) = (self.inner.describe, payload.as_object_mut()) {
            fields.insert("input".to_owned(), describe(input));
        }
        let mut event = Event::new(event_type.clone())
            .with_source(SOURCE)
            .with_message(message)
            .with_payload(payload);
        event.run = TaskScope::current_run();
        let reported = (!failures.is_empty()).then(|| event.clone());
        if listened {
            center.emit_event(event);
        }
        if let Some(reported) = reported {
            for (hook, error) in failures {
                report_verdict_failure(&center.inner, &hook, &reported, *error);
            }
        }
    }
}

impl<T> DecisionPoint<T, bool> {
    /// Trigger qualification: with no hooks the trigger is qualified; any
    /// hook answering `false` disqualifies it. Every hook is asked even
    /// after a `false` (as Minded runs every `TRIGGER_EVENT` handler, which
    /// may also prepare state), in registration order. A hook that panics
    /// disqualifies (fails closed) and is reported as
    /// `event_center.hook_failed`.
    ///
    /// Emitted as `decision.<point>.qualified` or
    /// `decision.<point>.disqualified`; `decided_by` lists the disqualifying
    /// hooks.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter};
    /// let point: DecisionPoint<&str, bool> = DecisionPoint::new(&EventCenter::new(), "trigger");
    /// assert!(point.qualify(&"anything").is_qualified()); // no hooks
    /// point.on("no-spam", |text: &&str| !text.contains("spam")).unwrap();
    /// point.on("crashes", |_: &&str| -> bool { panic!("bug") }).unwrap();
    /// let q = point.qualify(&"buy spam");
    /// assert!(!q.is_qualified());
    /// assert_eq!(q.disqualified_by(), ["no-spam", "crashes"]);
    /// assert_eq!(q.failed(), ["crashes"]);
    /// ```
    pub fn qualify(&self, trigger: &T) -> Qualification {
        let Verdicts {
            hooks,
            decided_by: disqualified_by,
            failures,
        } = self.ask_every_hook(trigger, |qualified| !qualified);
        let qualification = Qualification {
            qualified: disqualified_by.is_empty(),
            failed: failures.iter().map(|(name, _)| name.to_string()).collect(),
            disqualified_by,
            hooks: hooks.len(),
        };
        let (event_type, verdict) = if qualification.qualified {
            (&self.inner.types.qualified, "qualified")
        } else {
            (&self.inner.types.disqualified, "disqualified")
        };
        self.decided(
            event_type,
            verdict,
            trigger,
            hooks.len(),
            || qualification.disqualified_by.clone(),
            failures,
        );
        qualification
    }
}

impl<E> DecisionPoint<E, ErrorDisposition> {
    /// Error disposition: with no hooks the error is rethrown; any hook
    /// answering [`ErrorDisposition::Throw`] wins; only when every hook
    /// answers [`ErrorDisposition::Continue`] is the error swallowed. Every
    /// hook is asked, in registration order. A hook that panics counts as
    /// `Throw` (fails closed) and is reported as `event_center.hook_failed`.
    ///
    /// Emitted as `decision.<point>.thrown` (`decided_by`: the hooks that
    /// said throw or failed; empty when there were no hooks) or
    /// `decision.<point>.continued` (`decided_by`: every hook).
    ///
    /// ```
    /// use event_center::{DecisionPoint, ErrorDisposition, EventCenter};
    /// let point: DecisionPoint<std::io::Error, ErrorDisposition> =
    ///     DecisionPoint::new(&EventCenter::new(), "error");
    /// let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow upstream");
    /// assert_eq!(point.dispose(&timeout), ErrorDisposition::Throw); // no hooks
    /// point.on("tolerate-timeouts", |e: &std::io::Error| {
    ///     if e.kind() == std::io::ErrorKind::TimedOut { ErrorDisposition::Continue } else { ErrorDisposition::Throw }
    /// }).unwrap();
    /// assert_eq!(point.dispose(&timeout), ErrorDisposition::Continue);
    /// ```
    pub fn dispose(&self, error: &E) -> ErrorDisposition {
        let Verdicts {
            hooks,
            decided_by: throwers,
            failures,
        } = self.ask_every_hook(error, |d| d.is_throw());
        let disposition = if hooks.is_empty() || !throwers.is_empty() {
            ErrorDisposition::Throw
        } else {
            ErrorDisposition::Continue
        };
        let (event_type, verdict) = match disposition {
            ErrorDisposition::Continue => (&self.inner.types.continued, "continued"),
            ErrorDisposition::Throw => (&self.inner.types.thrown, "thrown"),
        };
        let decided_by = || match disposition {
            ErrorDisposition::Continue => hooks.iter().map(|h| h.name.to_string()).collect(),
            ErrorDisposition::Throw => throwers,
        };
        self.decided(
            event_type,
            verdict,
            error,
            hooks.len(),
            decided_by,
            failures,
        );
        disposition
    }
}

impl<R> DecisionPoint<TurnEnd<R>, Option<R>> {
    /// Turn-end result replacement: each hook, in registration order, sees
    /// the turn with the result so far; `Some(result)` replaces it for the
    /// next hook and the caller, `None` keeps it. Runs for disqualified
    /// turns too ([`TurnEnd::qualified`] tells the hooks). A hook that
    /// panics keeps the previous result (fails closed) and is reported as
    /// `event_center.hook_failed`. Returns the final result; with no hooks,
    /// the initial one.
    ///
    /// Emitted as `decision.<point>.replaced` (`decided_by`: the hooks that
    /// replaced the result, in order) or `decision.<point>.kept`.
    ///
    /// ```
    /// use event_center::{DecisionPoint, EventCenter, Trigger, TurnEnd};
    ///
    /// let point: DecisionPoint<TurnEnd<String>, Option<String>> =
    ///     DecisionPoint::new(&EventCenter::new(), "turn_end");
    /// point.on("sign", |turn: &TurnEnd<String>| Some(format!("{} -- the team", turn.result))).unwrap();
    /// point.on("untouched", |_: &TurnEnd<String>| None).unwrap();
    ///
    /// let turn = TurnEnd::new(Trigger::new("chat", "hi".into()), true, "Hello!".to_string());
    /// assert_eq!(point.turn_end(turn), "Hello! -- the team");
    /// ```
    pub fn turn_end(&self, mut turn: TurnEnd<R>) -> R {
        let hooks = self.inner.hooks.load_full();
        let mut replaced_by = Vec::new();
        let mut failures = Vec::new();
        for hook in hooks.iter() {
            match hook.answer(&turn) {
                Ok(Some(result)) => {
                    turn.result = result;
                    replaced_by.push(hook.name.to_string());
                }
                Ok(None) => {}
                Err(error) => failures.push((hook.name.clone(), error)),
            }
        }
        let (event_type, verdict) = if replaced_by.is_empty() {
            (&self.inner.types.kept, "kept")
        } else {
            (&self.inner.types.replaced, "replaced")
        };
        self.decided(
            event_type,
            verdict,
            &turn,
            hooks.len(),
            || replaced_by,
            failures,
        );
        turn.result
    }
}

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
    qualified: bool,
    disqualified_by: Vec<String>,
    failed: Vec<String>,
    hooks: usize,
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
    hook: String,
    result: Result<Out, Box<ErrorInfo>>,
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
    ///
    /// ```
    /// let t = event_center::Trigger::new("slack_message", serde_json::json!({"text": "hi"}));
    /// assert_eq!(t.session_id, None);
    /// ```
    pub fn new(name: impl Into<String>, body: Value) -> Self {
        Trigger {
            name: name.into(),
            body,
            session_id: None,
        }
    }

    /// Sets the session id.
    ///
    /// ```
    /// let t = event_center::Trigger::new("t", serde_json::Value::Null).with_session_id("s-9");
    /// assert_eq!(t.session_id.as_deref(), Some("s-9"));
    /// ```
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
    ///
    /// ```
    /// let decisions = event_center::Decisions::new(&event_center::EventCenter::new());
    /// assert!(decisions.triggers().is_empty());
    /// ```
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
    point: String,
    hook: String,
    kind: DecisionErrorKind,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_points_use_literal_event_types() {
        let types = EventTypes::new("trigger");
        assert!(types.qualified.static_key().is_some());
        assert_eq!(&*types.disqualified, "decision.trigger.disqualified");
        let custom = EventTypes::new("refund");
        assert!(custom.qualified.static_key().is_none());
        assert_eq!(&*custom.thrown, "decision.refund.thrown");
    }

    #[test]
    fn points_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Decisions>();
        assert_send_sync::<DecisionPoint<std::rc::Rc<u8>, std::rc::Rc<u8>>>();
    }
}
