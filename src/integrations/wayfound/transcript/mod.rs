//! Transcript entries, the mapping from event types, and the exporter.

mod export;
mod mapping;

use export::Exporter;

pub use mapping::{TranscriptMapping, TranscriptMappingBuilder};

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{Event, JsonMap};

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
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets one attribute.
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
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
    pub fn entries(&self) -> &[TranscriptEntry] {
        &self.entries
    }

    /// The entries, owned.
    pub fn into_entries(self) -> Vec<TranscriptEntry> {
        self.entries
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
