//! Transcript entries, the mapping from event types, and the exporter.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compat::Compat;
use crate::event::{Event, JsonMap};
use crate::integrations::iso8601_utc;
use crate::pattern::{Pattern, PatternError};

/// The 14 event types of a Wayfound transcript entry, serialized in
/// snake_case (`"tool_call"`, `"custom_event"`, ...).
///
/// ```
/// use event_center::TranscriptKind;
///
/// assert_eq!(serde_json::to_value(TranscriptKind::ToolCall).unwrap(), "tool_call");
/// assert_eq!(TranscriptKind::AgentHandoff.as_str(), "agent_handoff");
/// assert_eq!(TranscriptKind::ALL.len(), 14);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TranscriptKind {
    /// What the assistant (the agent) said.
    AssistantMessage,
    /// What the user said.
    UserMessage,
    /// A background system action or notice.
    SystemMessage,
    /// A developer's log line.
    DeveloperMessage,
    /// Structured content offered to the user (options, cards).
    StructuredMessage,
    /// An internal thought or plan.
    ReasoningStep,
    /// A tool call with its input, output, success and latency.
    ToolCall,
    /// A call to another agent (a child run).
    AgentCall,
    /// A user's rating or feedback.
    UserFeedback,
    /// A user clicking a button.
    ButtonClick,
    /// A user following a link.
    LinkClick,
    /// A transfer to another agent or a human.
    AgentHandoff,
    /// A human reviewer's note or decision.
    HumanReview,
    /// Anything else: `event_name` and `details` in its attributes.
    CustomEvent,
}

impl TranscriptKind {
    /// Every kind, in Wayfound's documented order.
    pub const ALL: [TranscriptKind; 14] = [
        TranscriptKind::AssistantMessage,
        TranscriptKind::UserMessage,
        TranscriptKind::SystemMessage,
        TranscriptKind::DeveloperMessage,
        TranscriptKind::StructuredMessage,
        TranscriptKind::ReasoningStep,
        TranscriptKind::ToolCall,
        TranscriptKind::AgentCall,
        TranscriptKind::UserFeedback,
        TranscriptKind::ButtonClick,
        TranscriptKind::LinkClick,
        TranscriptKind::AgentHandoff,
        TranscriptKind::HumanReview,
        TranscriptKind::CustomEvent,
    ];

    /// The wire name.
    ///
    /// ```
    /// assert_eq!(event_center::TranscriptKind::ReasoningStep.as_str(), "reasoning_step");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TranscriptKind::AssistantMessage => "assistant_message",
            TranscriptKind::UserMessage => "user_message",
            TranscriptKind::SystemMessage => "system_message",
            TranscriptKind::DeveloperMessage => "developer_message",
            TranscriptKind::StructuredMessage => "structured_message",
            TranscriptKind::ReasoningStep => "reasoning_step",
            TranscriptKind::ToolCall => "tool_call",
            TranscriptKind::AgentCall => "agent_call",
            TranscriptKind::UserFeedback => "user_feedback",
            TranscriptKind::ButtonClick => "button_click",
            TranscriptKind::LinkClick => "link_click",
            TranscriptKind::AgentHandoff => "agent_handoff",
            TranscriptKind::HumanReview => "human_review",
            TranscriptKind::CustomEvent => "custom_event",
        }
    }

    /// The attribute that carries the entry's text: `content` for the
    /// message kinds, `thought` for a reasoning step.
    fn text_key(self) -> Option<&'static str> {
        match self {
            TranscriptKind::AssistantMessage
            | TranscriptKind::UserMessage
            | TranscriptKind::SystemMessage
            | TranscriptKind::DeveloperMessage
            | TranscriptKind::StructuredMessage => Some("content"),
            TranscriptKind::ReasoningStep => Some("thought"),
            _ => None,
        }
    }
}

impl fmt::Display for TranscriptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a Wayfound session transcript (a "message" in Wayfound's
/// API). Absent optionals are omitted from the JSON, never written as null.
///
/// ```
/// use event_center::{TranscriptEntry, TranscriptKind};
/// use serde_json::json;
///
/// let entry = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::UserMessage)
///     .with_attribute("content", "What's the status of Project Alpha?");
/// assert_eq!(
///     serde_json::to_value(&entry).unwrap(),
///     json!({
///         "timestamp": "2025-05-07T10:00:00Z",
///         "event_type": "user_message",
///         "attributes": {"content": "What's the status of Project Alpha?"}
///     })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptEntry {
    /// When it happened: ISO-8601 UTC with a `Z` suffix.
    pub timestamp: String,
    /// Which of the 14 types it is.
    pub event_type: TranscriptKind,
    /// A short title shown in the transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A one-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The type's attributes (`content`, `tool_name`, `event_name`, ...).
    #[serde(default)]
    pub attributes: JsonMap,
}

impl TranscriptEntry {
    /// An entry with no label, description or attributes.
    ///
    /// ```
    /// use event_center::{TranscriptEntry, TranscriptKind};
    /// let entry = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::SystemMessage);
    /// assert!(entry.label.is_none() && entry.attributes.is_empty());
    /// ```
    pub fn new(timestamp: impl Into<String>, event_type: TranscriptKind) -> Self {
        TranscriptEntry {
            timestamp: timestamp.into(),
            event_type,
            label: None,
            description: None,
            attributes: JsonMap::new(),
        }
    }

    /// Sets the label.
    ///
    /// ```
    /// use event_center::{TranscriptEntry, TranscriptKind};
    /// let entry = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::LinkClick)
    ///     .with_label("Link Click");
    /// assert_eq!(entry.label.as_deref(), Some("Link Click"));
    /// ```
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the description.
    ///
    /// ```
    /// use event_center::{TranscriptEntry, TranscriptKind};
    /// let entry = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::LinkClick)
    ///     .with_description("User clicked through to the dashboard");
    /// assert!(entry.description.is_some());
    /// ```
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets one attribute.
    ///
    /// ```
    /// use event_center::{TranscriptEntry, TranscriptKind};
    /// let entry = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::LinkClick)
    ///     .with_attribute("url", "https://example.com");
    /// assert_eq!(entry.attributes["url"], "https://example.com");
    /// ```
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }
}

/// What a mapping rule does with a matching event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
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

    fn action_of(&self, event_type: &str) -> Option<Action> {
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
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder()
    ///     .with_tool_start("search.begin")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("search.begin"), event_center::TranscriptKind::ToolCall);
    /// ```
    pub fn with_tool_start(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ToolStart)
    }

    /// Events matching `pattern` end a tool call successfully (unless the
    /// event carries an error).
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder()
    ///     .with_tool_end("search.end")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("search.end"), event_center::TranscriptKind::ToolCall);
    /// ```
    pub fn with_tool_end(self, pattern: impl Into<String>) -> Self {
        self.rule(pattern, Action::ToolEnd)
    }

    /// Events matching `pattern` end a tool call as failed.
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder()
    ///     .with_tool_failure("search.error")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(mapping.kind_of("search.error"), event_center::TranscriptKind::ToolCall);
    /// ```
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
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder()
    ///     .with_ignored("heartbeat.*")
    ///     .build()
    ///     .unwrap();
    /// assert!(mapping.ignores("heartbeat.tick"));
    /// ```
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
    ///
    /// ```
    /// let mapping = event_center::TranscriptMapping::builder().build();
    /// assert!(mapping.is_ok());
    /// ```
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

/// A Wayfound session transcript built from a run's events.
///
/// [`Transcript::from_events`] orders the events by timestamp, then `seq`
/// (then input order), drops mirrored `tool.*` twins, maps each event
/// through a [`TranscriptMapping`] and:
///
/// - pairs each tool-call start with its end or failure into one
///   `tool_call` (`tool_name`, `tool_input`, `tool_output`, `success`,
///   `latency_ms` from the two timestamps, `tool_use_id`). The call id is
///   the first string of `call_id`, `tool_call_id`, `tool_use_id` or
///   `action_call_id` in the payload, then in the meta; an end without one
///   closes the earliest open start of the same run (and tool, when the end
///   names one). Failed calls are kept with `success: false` and the
///   `error`; a start that never ended is kept without `success`, with
///   `status: "unfinished"`;
/// - places each child run's entries right after the `agent_call` that
///   started it (lineage from `run.parent_run_id`), nested runs likewise;
/// - writes the rest by kind: message kinds get `content` (reasoning steps
///   `thought`) from a string payload, the payload's `content`, `text`,
///   `output`, `response`, `result` or `answer` string, or the event's
///   message; other payload fields are kept as attributes (an assistant
///   message's `model` and `tokens` or `total_tokens` under Wayfound's
///   names, `model_name` and `tokens_total`). A `custom_event` has
///   `event_name` (the original type) and `details` (the payload). The
///   event's message is the `description` (unless it became the
///   `content`), and its error an `error` attribute (`type`, `message`,
///   `code`). Timestamps are ISO-8601 UTC with milliseconds and `Z`.
///
/// ```
/// use event_center::{Event, Transcript, TranscriptKind, TranscriptMapping};
/// use serde_json::json;
///
/// let events = vec![
///     Event::new("user.message").with_timestamp(1_000).with_payload(json!("Find me a flight")),
///     Event::new("tool.started").with_timestamp(1_010)
///         .with_payload(json!({"call_id": "c1", "tool_name": "FlightSearch", "input": {"to": "JFK"}})),
///     Event::new("tool.completed").with_timestamp(1_130)
///         .with_payload(json!({"call_id": "c1", "output": [{"flight_id": "FS123"}]})),
///     Event::new("model.completed").with_timestamp(1_200).with_payload(json!({"text": "FS123 it is."})),
/// ];
/// let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
/// let kinds: Vec<_> = transcript.entries().iter().map(|e| e.event_type).collect();
/// assert_eq!(kinds, [TranscriptKind::UserMessage, TranscriptKind::ToolCall, TranscriptKind::AssistantMessage]);
/// let call = &transcript.entries()[1];
/// assert_eq!(call.attributes["latency_ms"], 120);
/// assert_eq!(call.attributes["success"], true);
/// assert_eq!(call.timestamp, "1970-01-01T00:00:01.010Z");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Transcript {
    entries: Vec<TranscriptEntry>,
}

impl From<Vec<TranscriptEntry>> for Transcript {
    fn from(entries: Vec<TranscriptEntry>) -> Self {
        Transcript { entries }
    }
}

impl Transcript {
    /// The transcript of these events (see the type's docs): owned or
    /// borrowed `Event`s or `Arc<Event>`s, such as a capture's events.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_center::{Event, Transcript, TranscriptMapping};
    ///
    /// let events = vec![Arc::new(Event::new("billing.invoice_created"))];
    /// let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
    /// assert_eq!(transcript.entries()[0].attributes["event_name"], "billing.invoice_created");
    /// ```
    pub fn from_events<I>(events: I, mapping: &TranscriptMapping) -> Transcript
    where
        I: IntoIterator,
        I::Item: AsRef<Event>,
    {
        let items: Vec<I::Item> = events.into_iter().collect();
        let mut order: Vec<&Event> = items
            .iter()
            .map(|item| item.as_ref())
            .filter(|event| !event.is_compat_twin())
            .collect();
        order.sort_by_key(|event| (event.timestamp, event.seq)); // stable: input order last
        Exporter::new(mapping, &order).run()
    }

    /// The entries, in transcript order.
    ///
    /// ```
    /// assert!(event_center::Transcript::default().entries().is_empty());
    /// ```
    pub fn entries(&self) -> &[TranscriptEntry] {
        &self.entries
    }

    /// The entries, owned.
    ///
    /// ```
    /// let entries = event_center::Transcript::default().into_entries();
    /// assert!(entries.is_empty());
    /// ```
    pub fn into_entries(self) -> Vec<TranscriptEntry> {
        self.entries
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(event_center::Transcript::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    ///
    /// ```
    /// assert!(event_center::Transcript::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

const CALL_ID_KEYS: [&str; 4] = ["call_id", "tool_call_id", "tool_use_id", "action_call_id"];
const TOOL_NAME_KEYS: [&str; 5] = ["tool_name", "tool", "name", "action_name", "action"];
const TOOL_INPUT_KEYS: [&str; 6] = [
    "tool_input",
    "input",
    "arguments",
    "args",
    "kwargs",
    "parameters",
];
const TOOL_OUTPUT_KEYS: [&str; 5] = ["tool_output", "output", "result", "results", "return_value"];
const TEXT_KEYS: [&str; 6] = ["content", "text", "output", "response", "result", "answer"];

/// One entry on its way out: where it sorts, which run it belongs to, and
/// the child run it opens (for an `agent_call`).
struct Item {
    entry: TranscriptEntry,
    run: Option<String>,
    opens: Option<String>,
}

struct OpenCall<'e> {
    item: usize,
    start: &'e Event,
    id: Option<String>,
    run: Option<String>,
    tool: String,
}

struct Exporter<'m, 'e> {
    mapping: &'m TranscriptMapping,
    events: &'m [&'e Event],
    parents: HashMap<String, String>,
}

impl<'m, 'e> Exporter<'m, 'e> {
    fn new(mapping: &'m TranscriptMapping, events: &'m [&'e Event]) -> Self {
        let mut parents = HashMap::new();
        for event in events {
            if let Some(run) = &event.run {
                if let Some(parent) = &run.parent_run_id {
                    if *parent != run.run_id {
                        parents.entry(run.run_id.clone()).or_insert(parent.clone());
                    }
                }
            }
        }
        Exporter {
            mapping,
            events,
            parents,
        }
    }

    fn run(self) -> Transcript {
        let mut items: Vec<Item> = Vec::with_capacity(self.events.len());
        let mut open: Vec<OpenCall<'e>> = Vec::new();
        for &event in self.events {
            let run = event.run.as_ref().map(|run| run.run_id.clone());
            match self.mapping.action_of(&event.event_type) {
                Some(Action::Ignore) => {}
                Some(Action::Entry(kind)) => items.push(Item {
                    entry: plain_entry(event, kind),
                    run,
                    opens: None,
                }),
                Some(Action::ChildRunStart) => {
                    let child = event
                        .run
                        .as_ref()
                        .filter(|r| r.parent_run_id.as_ref().is_some_and(|p| *p != r.run_id));
                    match child {
                        Some(child) => items.push(Item {
                            entry: agent_call_entry(event),
                            run: run.clone(),
                            opens: Some(child.run_id.clone()),
                        }),
                        None => items.push(Item {
                            entry: plain_entry(event, TranscriptKind::CustomEvent),
                            run,
                            opens: None,
                        }),
                    }
                }
                Some(Action::ToolStart) => {
                    open.push(OpenCall {
                        item: items.len(),
                        start: event,
                        id: call_id(event),
                        run: run.clone(),
                        tool: tool_name(event),
                    });
                    items.push(Item {
                        entry: unfinished_call(event),
                        run,
                        opens: None,
                    });
                }
                Some(action @ (Action::ToolEnd | Action::ToolFailure)) => {
                    let failed = action == Action::ToolFailure || event.error.is_some();
                    let id = call_id(event);
                    let named = named_tool(event);
                    let found = open.iter().position(|call| match &id {
                        Some(id) => call.id.as_deref() == Some(id),
                        None => {
                            call.id.is_none()
                                && call.run == run
                                && named.as_ref().is_none_or(|name| *name == call.tool)
                        }
                    });
                    match found {
                        Some(index) => {
                            let call = open.remove(index);
                            items[call.item].entry =
                                finished_call(Some(call.start), event, failed, call.tool, id);
                        }
                        None => {
                            let tool = named.unwrap_or_else(|| tool_name(event));
                            items.push(Item {
                                entry: finished_call(None, event, failed, tool, id),
                                run,
                                opens: None,
                            });
                        }
                    }
                }
                None => items.push(Item {
                    entry: plain_entry(event, TranscriptKind::CustomEvent),
                    run,
                    opens: None,
                }),
            }
        }
        Transcript {
            entries: self.nest(items),
        }
    }

    /// Puts each child run's entries right after the `agent_call` that
    /// opened it. An entry belongs to the nearest run, up its lineage, that
    /// an `agent_call` opened; an `agent_call` itself belongs to its parent's.
    fn nest(&self, items: Vec<Item>) -> Vec<TranscriptEntry> {
        let mut opened: HashSet<String> = HashSet::new();
        let mut opener: Vec<bool> = Vec::with_capacity(items.len());
        for item in &items {
            let first = item
                .opens
                .as_ref()
                .is_some_and(|child| opened.insert(child.clone()));
            opener.push(first);
        }
        let owner_of = |start: Option<&String>| -> Option<String> {
            let mut current = start.cloned();
            let mut steps = 0;
            while let Some(run) = current {
                if opened.contains(&run) {
                    return Some(run);
                }
                steps += 1;
                if steps > 1_000 {
                    return None; // a lineage cycle in bad input
                }
                current = self.parents.get(&run).cloned();
            }
            None
        };
        let mut children: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let owner = if opener[index] {
                let child = item.opens.as_ref();
                owner_of(child.and_then(|c| self.parents.get(c)))
            } else {
                owner_of(item.run.as_ref())
            };
            children.entry(owner).or_default().push(index);
        }
        let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(slots.len());
        // Depth-first, without recursion: a stack of pending index lists.
        let mut stack: Vec<std::vec::IntoIter<usize>> =
            vec![children.remove(&None).unwrap_or_default().into_iter()];
        while let Some(top) = stack.last_mut() {
            let Some(index) = top.next() else {
                stack.pop();
                continue;
            };
            let Some(item) = slots[index].take() else {
                continue;
            };
            let opens = if opener[index] { item.opens } else { None };
            out.push(item.entry);
            if let Some(child) = opens {
                if let Some(list) = children.remove(&Some(child)) {
                    stack.push(list.into_iter());
                }
            }
        }
        // Entries of a run whose opener never got placed (not reachable):
        // keep them rather than lose them, in their order.
        out.extend(slots.into_iter().flatten().map(|item| item.entry));
        out
    }
}

fn timestamp(event: &Event) -> String {
    iso8601_utc(event.timestamp)
}

fn first_string(map: Option<&JsonMap>, keys: &[&str]) -> Option<String> {
    let map = map?;
    keys.iter()
        .find_map(|key| map.get(*key).and_then(Value::as_str))
        .map(str::to_owned)
}

fn call_id(event: &Event) -> Option<String> {
    first_string(event.payload.as_object(), &CALL_ID_KEYS)
        .or_else(|| first_string(Some(&event.meta), &CALL_ID_KEYS))
}

fn named_tool(event: &Event) -> Option<String> {
    first_string(event.payload.as_object(), &TOOL_NAME_KEYS)
        .or_else(|| first_string(Some(&event.meta), &TOOL_NAME_KEYS))
}

/// The tool's name from the payload or meta, else the event's source.
fn tool_name(event: &Event) -> String {
    named_tool(event).unwrap_or_else(|| event.source.to_string())
}

fn error_value(event: &Event) -> Option<Value> {
    let error = event.error.as_ref()?;
    let mut map = JsonMap::new();
    map.insert("type".into(), error.error_type.clone().into());
    map.insert("message".into(), error.message.clone().into());
    if let Some(code) = &error.code {
        map.insert("code".into(), code.clone().into());
    }
    Some(Value::Object(map))
}

fn describe(entry: &mut TranscriptEntry, event: &Event) {
    if let Some(message) = &event.message {
        entry.description = Some(message.to_string());
    }
    if let Some(error) = error_value(event) {
        entry.attributes.insert("error".into(), error);
    }
}

/// One event as one entry of `kind` (see [`Transcript`] for the attributes).
fn plain_entry(event: &Event, kind: TranscriptKind) -> TranscriptEntry {
    let mut entry = TranscriptEntry::new(timestamp(event), kind);
    if kind == TranscriptKind::CustomEvent {
        entry
            .attributes
            .insert("event_name".into(), event.event_type.to_string().into());
        if !event.payload.is_null() {
            entry
                .attributes
                .insert("details".into(), event.payload.clone());
        }
        describe(&mut entry, event);
        return entry;
    }
    let text_key = kind.text_key();
    let mut text = None;
    match &event.payload {
        Value::Null => {}
        Value::Object(map) => {
            entry.attributes = map.clone();
            if let Some(key) = text_key {
                if !entry.attributes.contains_key(key) {
                    let found = TEXT_KEYS
                        .iter()
                        .find(|k| entry.attributes.get(**k).is_some_and(Value::is_string));
                    if let Some(found) = found {
                        text = entry.attributes.remove(*found);
                    }
                }
            }
        }
        Value::String(s) if text_key.is_some() => text = Some(Value::String(s.clone())),
        // A string for a kind without text, an array or a scalar: kept whole.
        other => {
            let key = if text_key.is_some() {
                "payload"
            } else {
                "value"
            };
            entry.attributes.insert(key.into(), other.clone());
        }
    }
    let mut message_is_text = false;
    if let Some(key) = text_key {
        if !entry.attributes.contains_key(key) {
            let fallback = text.or_else(|| {
                message_is_text = true;
                event.message.as_ref().map(|m| m.to_string().into())
            });
            if let Some(value) = fallback {
                entry.attributes.insert(key.into(), value);
            }
        }
    }
    if kind == TranscriptKind::AssistantMessage {
        // Wayfound's names for the model and the token count.
        rename(&mut entry.attributes, &["model_name", "model"]);
        rename(
            &mut entry.attributes,
            &["tokens_total", "total_tokens", "tokens"],
        );
    }
    describe(&mut entry, event);
    if message_is_text {
        entry.description = None; // the message is already the content
    }
    entry
}

/// Moves the first present of `names[1..]` to `names[0]`, if that is absent.
fn rename(attributes: &mut JsonMap, names: &[&str]) {
    let Some((target, sources)) = names.split_first() else {
        return;
    };
    if attributes.contains_key(*target) {
        return;
    }
    if let Some(value) = sources.iter().find_map(|source| attributes.remove(*source)) {
        attributes.insert((*target).to_owned(), value);
    }
}

fn agent_call_entry(event: &Event) -> TranscriptEntry {
    let run = event.run.as_deref();
    let name = run
        .and_then(|r| r.agent_name.clone().or_else(|| r.agent_id.clone()))
        .or_else(|| run.map(|r| r.run_kind.clone()))
        .unwrap_or_else(|| event.source.to_string());
    let mut entry = TranscriptEntry::new(timestamp(event), TranscriptKind::AgentCall)
        .with_label(format!("Agent Call: {name}"));
    let external = run
        .and_then(|r| r.agent_id.clone())
        .unwrap_or_else(|| name.clone());
    entry
        .attributes
        .insert("external_id".into(), external.into());
    if let Some(run) = run {
        entry
            .attributes
            .insert("run_id".into(), run.run_id.clone().into());
    }
    if !event.payload.is_null() {
        entry
            .attributes
            .insert("input".into(), event.payload.clone());
    }
    describe(&mut entry, event);
    entry
}

fn pick(event: &Event, keys: &[&str]) -> Option<Value> {
    match &event.payload {
        Value::Null => None,
        Value::Object(map) => keys
            .iter()
            .find_map(|key| map.get(*key).cloned())
            .or_else(|| Some(event.payload.clone())),
        other => Some(other.clone()),
    }
}

fn call_entry(start: &Event, tool: &str) -> TranscriptEntry {
    let mut entry = TranscriptEntry::new(timestamp(start), TranscriptKind::ToolCall)
        .with_label(format!("Tool Call: {tool}"));
    entry
        .attributes
        .insert("tool_name".into(), tool.to_owned().into());
    if let Some(message) = &start.message {
        entry.description = Some(message.to_string());
    }
    entry
}

fn unfinished_call(start: &Event) -> TranscriptEntry {
    let tool = tool_name(start);
    let mut entry = call_entry(start, &tool);
    if let Some(id) = call_id(start) {
        entry.attributes.insert("tool_use_id".into(), id.into());
    }
    if let Some(input) = pick(start, &TOOL_INPUT_KEYS) {
        entry.attributes.insert("tool_input".into(), input);
    }
    entry
        .attributes
        .insert("status".into(), "unfinished".into());
    entry
}

fn finished_call(
    start: Option<&Event>,
    end: &Event,
    failed: bool,
    tool: String,
    end_id: Option<String>,
) -> TranscriptEntry {
    let mut entry = call_entry(start.unwrap_or(end), &tool);
    if let Some(id) = start.and_then(call_id).or(end_id) {
        entry.attributes.insert("tool_use_id".into(), id.into());
    }
    if let Some(input) = start.and_then(|s| pick(s, &TOOL_INPUT_KEYS)) {
        entry.attributes.insert("tool_input".into(), input);
    }
    if let Some(output) = pick(end, &TOOL_OUTPUT_KEYS) {
        entry.attributes.insert("tool_output".into(), output);
    }
    entry.attributes.insert("success".into(), (!failed).into());
    if let Some(start) = start {
        let latency = end.timestamp.saturating_sub(start.timestamp).max(0);
        entry.attributes.insert("latency_ms".into(), latency.into());
    }
    if let Some(error) = error_value(end) {
        entry.attributes.insert("error".into(), error);
    }
    if entry.description.is_none() {
        entry.description = end.message.as_ref().map(|m| m.to_string());
    }
    entry
}
