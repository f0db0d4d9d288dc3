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

mod decisions;
mod error;
mod folds;
mod verdicts;

pub use decisions::Decisions;
pub use error::{DecisionError, DecisionErrorKind};
pub use verdicts::{ErrorDisposition, Qualification, Trigger, TurnEnd, VerdictAnswer};

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

#[cfg(test)]
mod tests;
