//! The exporter: a run's events, in order, turned into transcript entries
//! (tool calls paired with their results, unfinished ones closed).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::event::{Event, JsonMap};
use crate::integrations::iso8601_utc;

use super::mapping::Action;
use super::*;

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

pub(super) struct Exporter<'m, 'e> {
    mapping: &'m TranscriptMapping,
    events: &'m [&'e Event],
    parents: HashMap<String, String>,
}

impl<'m, 'e> Exporter<'m, 'e> {
    pub(super) fn new(mapping: &'m TranscriptMapping, events: &'m [&'e Event]) -> Self {
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

    pub(super) fn run(self) -> Transcript {
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
