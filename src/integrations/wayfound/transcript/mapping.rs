//! `TranscriptMapping`: which event types become which transcript entries,
//! Wayfound's default rules, and its builder.

use crate::compat::Compat;
use crate::pattern::{Pattern, PatternError};

use super::*;

/// What a mapping rule does with a matching event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// One entry of this kind.
    Entry(TranscriptKind),
    /// The start of a tool call, paired with its end by call id.
    ToolStart,
    /// A tool call's successful end.
    ToolEnd,
    /// A tool call's failure.
    ToolFailure,
    /// The start of a child run: an `agent_call` that the child run's
    /// entries follow (a root run's start stays a `custom_event`).
    ChildRunStart,
    /// No entry at all.
    Ignore,
}

#[derive(Clone, Debug)]
struct Rule {
    pattern: Pattern,
    action: Action,
}

/// Which transcript entry each event type becomes: an ordered rule table
/// from event-type [patterns](crate::Pattern) to entry kinds and tool-call
/// roles. Later rules win over earlier ones, so rules added to the
/// [default table](TranscriptMapping::agently) override it. A rule matches
/// an event's type or one of its legacy aliases (`workflow.*` and
/// `triggerflow.*` name the same events). Events no rule matches become
/// `custom_event` entries with `event_name` (the original type) and
/// `details` (its payload).
///
/// The default table, for this crate's and Agently's events:
///
/// | event types | entry |
/// |---|---|
/// | `model.completed`, `model.responded`, `model.response`, `assistant.message`, `agent.message`, `agent.output` | `assistant_message` |
/// | `user.message`, `user.input`, `input.received` | `user_message` |
/// | `system.message` | `system_message` |
/// | `runtime.*` (Agently's log lines) | `developer_message` |
/// | `action.plan_ready`, `*.reasoning`, `model.reasoning_completed`, `reasoning.*` | `reasoning_step` |
/// | `tool.started`, `tool.called`, `action.started` + `tool.completed`, `action.completed` (or `tool.failed`, `action.failed`) | one `tool_call` |
/// | `agent_execution.started`, `agent.started`, `subagent.started`, `triggerflow.execution_started` in a child run | `agent_call` |
/// | `feedback.*`, `user.feedback` | `user_feedback` |
/// | `agent.handoff`, `handoff.*` | `agent_handoff` |
/// | `human.review*`, `review.*` | `human_review` |
/// | `*.delta`, `*_delta` (stream pieces; the completion carries the text), `event_center.*` (the center's own reports) | nothing |
/// | anything else (`model.requesting`, `action.loop_*`, `triggerflow.*`, ...) | `custom_event` |
///
/// Mirrored `tool.*` twins of `action.*` events (marked in their meta) are
/// always dropped, so each call is one entry.
///
/// ```
/// use event_center::{TranscriptKind, TranscriptMapping};
///
/// let mapping = TranscriptMapping::builder()
///     .with_rule("checkout.*", TranscriptKind::ButtonClick)
///     .with_rule("model.requesting", TranscriptKind::DeveloperMessage)
///     .with_tool_start("search.begin")
///     .with_tool_end("search.end")
///     .build()
///     .unwrap();
/// assert_eq!(mapping.kind_of("checkout.pay"), TranscriptKind::ButtonClick);
/// assert_eq!(mapping.kind_of("model.completed"), TranscriptKind::AssistantMessage);
/// assert_eq!(mapping.kind_of("search.begin"), TranscriptKind::ToolCall);
/// assert_eq!(mapping.kind_of("billing.invoice_created"), TranscriptKind::CustomEvent);
/// ```
#[derive(Clone, Debug)]
pub struct TranscriptMapping {
    rules: Vec<Rule>,
    compat: Compat,
}

impl Default for TranscriptMapping {
    fn default() -> Self {
        TranscriptMapping::agently()
    }
}

const DEFAULT_RULES: &[(&str, Action)] = &[
    (
        "model.completed",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    (
        "model.responded",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    (
        "model.response",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    (
        "assistant.message",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    (
        "agent.message",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    (
        "agent.output",
        Action::Entry(TranscriptKind::AssistantMessage),
    ),
    ("user.message", Action::Entry(TranscriptKind::UserMessage)),
    ("user.input", Action::Entry(TranscriptKind::UserMessage)),
    ("input.received", Action::Entry(TranscriptKind::UserMessage)),
    (
        "system.message",
        Action::Entry(TranscriptKind::SystemMessage),
    ),
    ("runtime.*", Action::Entry(TranscriptKind::DeveloperMessage)),
    (
        "action.plan_ready",
        Action::Entry(TranscriptKind::ReasoningStep),
    ),
    ("*.reasoning", Action::Entry(TranscriptKind::ReasoningStep)),
    (
        "model.reasoning_completed",
        Action::Entry(TranscriptKind::ReasoningStep),
    ),
    ("reasoning.*", Action::Entry(TranscriptKind::ReasoningStep)),
    ("tool.started", Action::ToolStart),
    ("tool.called", Action::ToolStart),
    ("action.started", Action::ToolStart),
    ("tool.completed", Action::ToolEnd),
    ("action.completed", Action::ToolEnd),
    ("tool.failed", Action::ToolFailure),
    ("action.failed", Action::ToolFailure),
    ("agent_execution.started", Action::ChildRunStart),
    ("agent.started", Action::ChildRunStart),
    ("subagent.started", Action::ChildRunStart),
    ("triggerflow.execution_started", Action::ChildRunStart),
    ("feedback.*", Action::Entry(TranscriptKind::UserFeedback)),
    ("user.feedback", Action::Entry(TranscriptKind::UserFeedback)),
    ("agent.handoff", Action::Entry(TranscriptKind::AgentHandoff)),
    ("handoff.*", Action::Entry(TranscriptKind::AgentHandoff)),
    ("human.review*", Action::Entry(TranscriptKind::HumanReview)),
    ("review.*", Action::Entry(TranscriptKind::HumanReview)),
    ("*.delta", Action::Ignore),
    ("*_delta", Action::Ignore),
    ("event_center.*", Action::Ignore),
];

impl TranscriptMapping {
    /// The default table (see the type's docs) with Agently's legacy aliases.
    ///
    /// ```
    /// use event_center::{TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::agently();
    /// assert_eq!(mapping.kind_of("runtime.warning"), TranscriptKind::DeveloperMessage);
    /// assert_eq!(mapping.kind_of("action.completed"), TranscriptKind::ToolCall);
    /// ```
    pub fn agently() -> Self {
        TranscriptMapping::builder()
            .build()
            .unwrap_or_else(|_| TranscriptMapping {
                rules: Vec::new(),
                compat: Compat::agently(),
            })
    }

    /// A builder that starts from the default table.
    ///
    /// ```
    /// use event_center::{TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::builder()
    ///     .with_rule("model.completed", TranscriptKind::StructuredMessage)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("model.completed"), TranscriptKind::StructuredMessage);
    /// ```
    pub fn builder() -> TranscriptMappingBuilder {
        TranscriptMappingBuilder {
            rules: DEFAULT_RULES
                .iter()
                .map(|(pattern, action)| (pattern.to_string(), *action))
                .collect(),
            compat: Compat::agently(),
        }
    }

    pub(super) fn action_of(&self, event_type: &str) -> Option<Action> {
        let aliases = self.compat.aliases(event_type);
        self.rules.iter().rev().find_map(|rule| {
            let hit = rule.pattern.matches(event_type)
                || aliases.iter().any(|alias| rule.pattern.matches(alias));
            hit.then_some(rule.action)
        })
    }

    /// The kind of entry an event of this type becomes: tool-call roles
    /// give [`TranscriptKind::ToolCall`], child-run starts
    /// [`TranscriptKind::AgentCall`] (a root run's start stays a
    /// `custom_event`), and ignored or unmatched types
    /// [`TranscriptKind::CustomEvent`] (use [`TranscriptMapping::ignores`]
    /// to tell ignored types apart).
    ///
    /// ```
    /// use event_center::{TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::agently();
    /// assert_eq!(mapping.kind_of("workflow.execution_started"), TranscriptKind::AgentCall);
    /// assert_eq!(mapping.kind_of("custom.thing"), TranscriptKind::CustomEvent);
    /// ```
    pub fn kind_of(&self, event_type: &str) -> TranscriptKind {
        match self.action_of(event_type) {
            Some(Action::Entry(kind)) => kind,
            Some(Action::ToolStart | Action::ToolEnd | Action::ToolFailure) => {
                TranscriptKind::ToolCall
            }
            Some(Action::ChildRunStart) => TranscriptKind::AgentCall,
            Some(Action::Ignore) | None => TranscriptKind::CustomEvent,
        }
    }

    /// Whether events of this type are left out of transcripts.
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::agently();
    /// assert!(mapping.ignores("model.response.delta"));
    /// assert!(!mapping.ignores("model.completed"));
    /// ```
    pub fn ignores(&self, event_type: &str) -> bool {
        self.action_of(event_type) == Some(Action::Ignore)
    }
}

/// Builds a [`TranscriptMapping`]: rules added later win over earlier ones
/// and over the default table. Patterns are compiled by
/// [`build`](TranscriptMappingBuilder::build), which names the first bad one.
///
/// ```
/// use event_center::{TranscriptKind, TranscriptMapping};
///
/// let err = TranscriptMapping::builder()
///     .with_rule("checkout.{a,b}", TranscriptKind::ButtonClick)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.pattern(), "checkout.{a,b}");
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct TranscriptMappingBuilder {
    rules: Vec<(String, Action)>,
    compat: Compat,
}

impl TranscriptMappingBuilder {
    fn rule(mut self, pattern: impl Into<String>, action: Action) -> Self {
        self.rules.push((pattern.into(), action));
        self
    }

    /// Events matching `pattern` become one entry of `kind`. Mapping to
    /// [`TranscriptKind::ToolCall`] makes each event a call of its own
    /// (use [`with_tool_start`](Self::with_tool_start) and its siblings to
    /// pair a start with its end).
    ///
    /// ```
    /// use event_center::{TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::builder()
    ///     .with_rule("ui.link_opened", TranscriptKind::LinkClick)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("ui.link_opened"), TranscriptKind::LinkClick);
    /// ```
    pub fn with_rule(self, pattern: impl Into<String>, kind: TranscriptKind) -> Self {
        self.rule(pattern, Action::Entry(kind))
    }

    /// Events matching `pattern` start a tool call.
    pub fn with_tool_start(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ToolStart)
    }

    /// Events matching `pattern` end a tool call successfully (unless the
    /// event carries an error).
    pub fn with_tool_end(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ToolEnd)
    }

    /// Events matching `pattern` end a tool call as failed.
    pub fn with_tool_failure(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ToolFailure)
    }

    /// Events matching `pattern` start a child run: in a run that has a
    /// parent, the event becomes an `agent_call` and the child run's
    /// entries follow it; elsewhere it is a `custom_event`.
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder()
    ///     .with_child_run_start("crew.member_started")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("crew.member_started"), event_center::TranscriptKind::AgentCall);
    /// ```
    pub fn with_child_run_start(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ChildRunStart)
    }

    /// Events matching `pattern` are left out.
    pub fn with_ignored(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::Ignore)
    }

    /// Forgets every rule added so far, the default table included.
    ///
    /// ```
    /// use event_center::{TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::builder().without_defaults().build().unwrap();
    /// assert_eq!(mapping.kind_of("model.completed"), TranscriptKind::CustomEvent);
    /// ```
    pub fn without_defaults(mut self) -> Self {
        self.rules.clear();
        self
    }

    /// The alias tables used to match legacy names (Agently's by default).
    ///
    /// ```
    /// use event_center::{Compat, TranscriptKind, TranscriptMapping};
    /// let mapping = TranscriptMapping::builder().with_compat(Compat::none()).build().unwrap();
    /// assert_eq!(mapping.kind_of("workflow.execution_started"), TranscriptKind::CustomEvent);
    /// ```
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }

    /// Compiles the patterns, or says which one is wrong and why.
    pub fn build(self) -> Result<TranscriptMapping, PatternError> {
        let rules = self
            .rules
            .into_iter()
            .map(|(text, action)| Pattern::new(&text).map(|pattern| Rule { pattern, action }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TranscriptMapping {
            rules,
            compat: self.compat,
        })
    }
}
