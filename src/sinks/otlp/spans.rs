//! The span mapping: each run as a span, opened at its first event and
//! ended by a terminal one, with ids that follow the run lineage.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::exporter::Inner;
use super::lock;
use super::records::{run_attributes, system_time, GenAi};
use crate::event::{Event, Level};
use crate::run::RunContext;

/// How many ended runs are remembered, so that a late event of an ended run
/// does not open (and export) its span a second time.
const ENDED_RUNS_KEPT: usize = 4096;

impl Inner {
    /// Notes `event` in its run's span; returns the span when the event ends
    /// the run.
    pub(super) fn track_run(
        &self,
        run: &Arc<RunContext>,
        event: &Event,
        genai: GenAi,
    ) -> Option<SpanData> {
        let mut runs = lock(&self.runs);
        if runs.ended.contains(&run.run_id) {
            return None;
        }
        let open = runs
            .open
            .entry(run.run_id.clone())
            .or_insert_with(|| OpenRun {
                run: run.clone(),
                start: event.timestamp,
                last: event.timestamp,
                genai: GenAi::default(),
            });
        open.last = open.last.max(event.timestamp);
        open.genai.merge(genai);
        if !self.is_terminal(&event.event_type) {
            return None;
        }
        let open = runs.open.remove(&run.run_id)?;
        runs.remember_ended(run.run_id.clone());
        drop(runs);
        let status = if is_failure(event) {
            let description = event
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.error_type, e.message))
                .or_else(|| event.message.as_deref().map(str::to_owned))
                .unwrap_or_else(|| event.event_type.to_string());
            Status::error(description)
        } else {
            Status::Ok
        };
        Some(self.span_of(open, status))
    }

    fn is_terminal(&self, event_type: &str) -> bool {
        let last = event_type.rsplit('.').next().unwrap_or(event_type);
        self.end_suffixes.iter().any(|s| s == last)
    }

    pub(super) fn span_of(&self, open: OpenRun, status: Status) -> SpanData {
        let run = &open.run;
        let parent_span_id = run
            .parent_run_id
            .as_deref()
            .map(span_id)
            .unwrap_or(SpanId::INVALID);
        let mut attributes: Vec<KeyValue> = run_attributes(run)
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect();
        if let Some(operation) = operation_of_run(&run.run_kind) {
            attributes.push(KeyValue::new("gen_ai.operation.name", operation));
        }
        attributes.extend(open.genai.attributes());
        SpanData {
            span_context: SpanContext::new(
                trace_id(run.root_id()),
                span_id(&run.run_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: run.run_kind.clone().into(),
            start_time: system_time(open.start),
            end_time: system_time(open.last),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: self.scope.clone(),
        }
    }
}

#[derive(Default)]
pub(super) struct Runs {
    pub(super) open: HashMap<String, OpenRun>,
    ended: HashSet<String>,
    ended_order: VecDeque<String>,
}

impl Runs {
    fn remember_ended(&mut self, run_id: String) {
        if self.ended_order.len() == ENDED_RUNS_KEPT {
            if let Some(oldest) = self.ended_order.pop_front() {
                self.ended.remove(&oldest);
            }
        }
        self.ended.insert(run_id.clone());
        self.ended_order.push_back(run_id);
    }
}

pub(super) struct OpenRun {
    run: Arc<RunContext>,
    pub(super) start: i64,
    last: i64,
    genai: GenAi,
}

fn operation_of_run(run_kind: &str) -> Option<&'static str> {
    match run_kind {
        "model_request" => Some("chat"),
        "agent_execution" => Some("invoke_agent"),
        "action" | "tool" | "tool_call" | "action_call" => Some("execute_tool"),
        _ => None,
    }
}

fn is_failure(event: &Event) -> bool {
    event.level >= Level::Error
        || event.error.is_some()
        || event
            .event_type
            .rsplit('.')
            .next()
            .is_some_and(|s| s.ends_with("failed"))
}

/// The trace id of a run tree: its root run id as 16 bytes when it is 32
/// hex digits (a generated run id), else a stable hash of it.
pub(super) fn trace_id(root_run_id: &str) -> TraceId {
    let id = parse_hex128(root_run_id)
        .filter(|id| *id != 0)
        .unwrap_or_else(|| {
            let high = fnv1a(root_run_id.as_bytes(), 0xcbf2_9ce4_8422_2325);
            let low = fnv1a(root_run_id.as_bytes(), 0x6c62_272e_07bb_0142);
            (u128::from(high) << 64 | u128::from(low)).max(1)
        });
    TraceId::from_bytes(id.to_be_bytes())
}

/// The span id of a run: the low 8 bytes of its id when it is 32 hex digits
/// (random in a generated id), else a stable hash of it.
pub(super) fn span_id(run_id: &str) -> SpanId {
    let id = parse_hex128(run_id)
        .map(|id| id as u64)
        .filter(|id| *id != 0)
        .unwrap_or_else(|| fnv1a(run_id.as_bytes(), 0xcbf2_9ce4_8422_2325).max(1));
    SpanId::from_bytes(id.to_be_bytes())
}

fn parse_hex128(text: &str) -> Option<u128> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

fn fnv1a(bytes: &[u8], offset: u64) -> u64 {
    bytes.iter().fold(offset, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_run_ids_are_used_as_trace_and_span_ids() {
        let id = "cce16a03a96d49feb07a36cff1d25a28";
        assert_eq!(trace_id(id).to_string(), id);
        assert_eq!(span_id(id).to_string(), "b07a36cff1d25a28");
        let dashed = "cce16a03-a96d-49fe-b07a-36cff1d25a28";
        assert_eq!(trace_id(dashed).to_string(), id);
    }

    #[test]
    fn other_run_ids_hash_stably_and_never_to_zero() {
        assert_eq!(trace_id("run-1"), trace_id("run-1"));
        assert_ne!(trace_id("run-1"), trace_id("run-2"));
        assert_ne!(span_id("run-1"), span_id("run-2"));
        assert_ne!(trace_id(""), TraceId::INVALID);
        assert_ne!(span_id("00000000000000000000000000000000"), SpanId::INVALID);
    }
}
