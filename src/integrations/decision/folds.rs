//! The folds of the standard decision points: `qualify` (trigger
//! qualification), `dispose` (error disposition) and `turn_end`.

use super::*;

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
