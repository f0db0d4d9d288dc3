//! Spans as runs: a span's fields, and the run lineage built from the
//! spans an event happens in.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use tracing::Subscriber;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::run::RunContext;

/// A span's recorded fields.
pub(super) struct SpanFields(pub(super) Map<String, Value>);

/// A span's run, created on first use.
pub(super) struct SpanRun(pub(super) Arc<RunContext>);

/// When a span started (with span events on).
pub(super) struct SpanStart(pub(super) Instant);

/// Sets a run's fields from a span's fields: the RunContext ones by name,
/// the rest into its meta.
pub(super) fn apply_span_fields(run: &mut RunContext, fields: &Map<String, Value>) {
    for (name, value) in fields {
        let text = || match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match name.as_str() {
            "run_id" => {
                // As `with_run_id`: a root run's root follows its id.
                let run_id = text();
                if run.root_run_id.as_deref() == Some(run.run_id.as_str()) {
                    run.root_run_id = Some(run_id.clone());
                }
                run.run_id = run_id;
            }
            "run_kind" => run.run_kind = text(),
            "agent_id" => run.agent_id = Some(text()),
            "agent_name" => run.agent_name = Some(text()),
            "session_id" => run.session_id = Some(text()),
            "response_id" => run.response_id = Some(text()),
            "execution_id" => run.execution_id = Some(text()),
            _ => {
                run.meta.insert(name.clone(), value.clone());
            }
        }
    }
}

/// The run of `span`, creating it (and those of the spans around it that
/// have none yet) on first use.
pub(super) fn run_of<S>(span: &SpanRef<'_, S>) -> Arc<RunContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(run) = span.extensions().get::<SpanRun>() {
        return run.0.clone();
    }
    let mut parent: Option<Arc<RunContext>> = None;
    for span in span.scope().from_root() {
        let existing = span.extensions().get::<SpanRun>().map(|r| r.0.clone());
        let run = match existing {
            Some(run) => run,
            None => {
                let mut run = match &parent {
                    Some(parent) => parent.child(span.name()),
                    None => RunContext::new(span.name()),
                };
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    apply_span_fields(&mut run, &fields.0);
                }
                run.meta
                    .insert("tracing_span_id".into(), span.id().into_u64().into());
                let run = Arc::new(run);
                let mut extensions = span.extensions_mut();
                match extensions.get_mut::<SpanRun>() {
                    // Another thread created it meanwhile: use theirs.
                    Some(theirs) => theirs.0.clone(),
                    None => {
                        extensions.insert(SpanRun(run.clone()));
                        run
                    }
                }
            }
        };
        parent = Some(run);
    }
    // The scope holds the span itself, so `parent` is its run.
    parent.unwrap_or_else(|| Arc::new(RunContext::new(span.name())))
}
