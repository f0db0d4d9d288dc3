//! The log-record mapping: an event as an OTLP log record, with its run's
//! trace context and the GenAI attributes of its payload.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::TraceFlags;
use opentelemetry::{KeyValue, StringValue, Value as OtelValue};
use serde_json::Value;

use super::exporter::Inner;
use super::spans::{span_id, trace_id};
use crate::event::{Event, Level};
use crate::run::RunContext;

impl Inner {
    pub(super) fn emit_log(&self, event: &Event, genai: &GenAi) {
        let mut record = self.logger.create_log_record();
        record.set_timestamp(system_time(event.timestamp));
        record.set_observed_timestamp(SystemTime::now());
        record.set_severity_number(severity(event.level));
        record.set_severity_text(event.level.as_str());
        let body = event.message.as_deref().unwrap_or(&event.event_type);
        record.set_body(AnyValue::String(body.to_owned().into()));
        record.add_attribute("event_center.event_type", event.event_type.to_string());
        record.add_attribute("event_center.event_id", event.event_id.to_string());
        record.add_attribute("event_center.source", event.source.to_string());
        if event.seq > 0 {
            record.add_attribute(
                "event_center.seq",
                i64::try_from(event.seq).unwrap_or(i64::MAX),
            );
        }
        if !event.payload.is_null() {
            record.add_attribute("event_center.payload", event.payload.to_string());
        }
        if !event.meta.is_empty() {
            record.add_attribute(
                "event_center.meta",
                Value::Object((*event.meta).clone()).to_string(),
            );
        }
        if let Some(error) = &event.error {
            record.add_attribute("exception.type", error.error_type.clone());
            record.add_attribute("exception.message", error.message.clone());
        }
        if let Some(run) = &event.run {
            for (key, value) in run_attributes(run) {
                record.add_attribute(key, value);
            }
            record.set_trace_context(
                trace_id(run.root_id()),
                span_id(&run.run_id),
                Some(TraceFlags::SAMPLED),
            );
        }
        if let Some(operation) = operation_of_event(&event.event_type) {
            record.add_attribute("gen_ai.operation.name", operation);
        }
        for kv in genai.attributes() {
            record.add_attribute(kv.key, to_any(kv.value));
        }
        self.logger.emit(record);
    }
}

/// The GenAI semantic-convention values an event's payload carries.
#[derive(Default)]
pub(super) struct GenAi {
    request_model: Option<String>,
    response_model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
}

impl GenAi {
    pub(super) fn of(event: &Event) -> GenAi {
        let Value::Object(payload) = &event.payload else {
            return GenAi::default();
        };
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| payload.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let model = text(&["model", "model_name"]);
        let is_completion = event.event_type.starts_with("model.")
            && matches!(
                event.event_type.rsplit('.').next(),
                Some("completed" | "responded" | "response" | "done")
            );
        let usage = [
            Some(payload),
            object(payload, "usage"),
            object(payload, "token_usage"),
        ];
        let count = |keys: &[&str]| {
            usage
                .iter()
                .flatten()
                .find_map(|map| keys.iter().find_map(|k| map.get(*k).and_then(as_count)))
        };
        GenAi {
            request_model: text(&["request_model"]).or_else(|| model.clone()),
            response_model: text(&["response_model"]).or(model.filter(|_| is_completion)),
            input_tokens: count(&["input_tokens", "prompt_tokens"]),
            output_tokens: count(&["output_tokens", "completion_tokens"]),
        }
    }

    pub(super) fn merge(&mut self, newer: GenAi) {
        self.request_model = newer.request_model.or(self.request_model.take());
        self.response_model = newer.response_model.or(self.response_model.take());
        self.input_tokens = newer.input_tokens.or(self.input_tokens);
        self.output_tokens = newer.output_tokens.or(self.output_tokens);
    }

    pub(super) fn attributes(&self) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if let Some(model) = &self.request_model {
            out.push(KeyValue::new("gen_ai.request.model", model.clone()));
        }
        if let Some(model) = &self.response_model {
            out.push(KeyValue::new("gen_ai.response.model", model.clone()));
        }
        if let Some(tokens) = self.input_tokens {
            out.push(KeyValue::new("gen_ai.usage.input_tokens", tokens));
        }
        if let Some(tokens) = self.output_tokens {
            out.push(KeyValue::new("gen_ai.usage.output_tokens", tokens));
        }
        out
    }
}

fn object<'a>(map: &'a crate::event::JsonMap, key: &str) -> Option<&'a crate::event::JsonMap> {
    map.get(key).and_then(Value::as_object)
}

fn as_count(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < i64::MAX as f64)
            .map(|f| f as i64)
    })
}

fn to_any(value: OtelValue) -> AnyValue {
    match value {
        OtelValue::Bool(b) => AnyValue::Boolean(b),
        OtelValue::I64(i) => AnyValue::Int(i),
        OtelValue::F64(f) => AnyValue::Double(f),
        OtelValue::String(s) => AnyValue::String(s),
        other => AnyValue::String(StringValue::from(other.to_string())),
    }
}

/// The run's real ids and names as `event_center.*` attributes, and the
/// GenAI ones they map to.
pub(super) fn run_attributes(run: &RunContext) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("event_center.run_id", run.run_id.clone()),
        ("event_center.run_kind", run.run_kind.clone()),
        ("event_center.root_run_id", run.root_id().to_owned()),
    ];
    let optional = [
        ("event_center.parent_run_id", &run.parent_run_id),
        ("event_center.session_id", &run.session_id),
        ("event_center.agent_id", &run.agent_id),
        ("event_center.agent_name", &run.agent_name),
        ("event_center.response_id", &run.response_id),
        ("event_center.execution_id", &run.execution_id),
        ("gen_ai.conversation.id", &run.session_id),
        ("gen_ai.agent.id", &run.agent_id),
        ("gen_ai.agent.name", &run.agent_name),
        ("gen_ai.response.id", &run.response_id),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.push((key, value.clone()));
        }
    }
    out
}

fn operation_of_event(event_type: &str) -> Option<&'static str> {
    match event_type.split('.').next() {
        Some("model") => Some("chat"),
        Some("tool") => Some("execute_tool"),
        _ => None,
    }
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Debug => Severity::Debug,
        Level::Info => Severity::Info,
        Level::Warning => Severity::Warn,
        Level::Error => Severity::Error,
        Level::Critical => Severity::Fatal,
    }
}

pub(super) fn system_time(millis: i64) -> SystemTime {
    let millis = u64::try_from(millis).unwrap_or(0);
    UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_are_found_in_the_payload_or_its_usage() {
        let event = Event::new("model.completed").with_payload(serde_json::json!({
            "model": "gpt-4o-mini",
            "usage": {"prompt_tokens": 12, "completion_tokens": 30.0}
        }));
        let genai = GenAi::of(&event);
        assert_eq!(genai.request_model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(genai.response_model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(
            (genai.input_tokens, genai.output_tokens),
            (Some(12), Some(30))
        );
        let request =
            Event::new("model.requesting").with_payload(serde_json::json!({"model": "m"}));
        assert_eq!(GenAi::of(&request).response_model, None);
    }
}
