//! Run records as Agently DevTools keeps them: one per `run_id`, updated by
//! each of the run's events, and their status as queries report it.
//!
//! At ingest (Agently's RunStore): the first event fixes the run's kind,
//! root and parent and its `started_at`; every event sets `updated_at`, the
//! `latest_*` fields and `event_count`, fills agent/session/response/
//! execution ids it carries, and merges meta (the run's own meta, then the
//! event's `app_id`, `group_id` and `environment` over it). The status
//! follows event-type suffixes: `_failed`/`.failed`, `_completed`/
//! `.completed` (which also stamp `failed_at`/`completed_at`),
//! `interrupt_raised`, `_waiting`/`.waiting`, and `_started`/`.started`/
//! `_resumed`/`.resumed`; other types leave it as it was.
//!
//! At query time (Agently's ObservationService): a run still `unknown` or
//! `running` with nothing new for 900 s is reported `failed`
//! (`stale_timeout`), and one whose nearest finished ancestor finished at
//! least 30 s ago, with nothing of its own since, is reported `failed`
//! (`orphaned_after_ancestor_terminal`), both marked in meta.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::JsonMap;

use super::ingest::NewEvent;

/// After this long without an event a running run is reported failed.
const STALE_AFTER_MS: i64 = 900_000;
/// After this long past its ancestor's end a running run is reported failed.
const ORPHAN_AFTER_MS: i64 = 30_000;
/// Ancestor levels looked through for the orphan check (resolving an
/// ancestor recurses; parent links come from clients).
const MAX_ANCESTRY: usize = 256;

/// A run's status, as Agently names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunStatus {
    #[default]
    Unknown,
    Running,
    Waiting,
    Completed,
    Failed,
}

impl RunStatus {
    pub(crate) const ALL: [RunStatus; 5] = [
        RunStatus::Unknown,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Completed,
        RunStatus::Failed,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Unknown => "unknown",
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn is_terminal(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed)
    }
}

/// The status an event type announces, if any (Agently's `_infer_run_status`).
pub(crate) fn infer_status(event_type: &str) -> Option<RunStatus> {
    let ends = |suffix: &str| {
        event_type
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with(['_', '.']))
    };
    if ends("failed") {
        Some(RunStatus::Failed)
    } else if ends("completed") {
        Some(RunStatus::Completed)
    } else if event_type.ends_with("interrupt_raised") || ends("waiting") {
        Some(RunStatus::Waiting)
    } else if ends("started") || ends("resumed") {
        Some(RunStatus::Running)
    } else {
        None
    }
}

/// One run, in Agently's RunRecord shape (the field order is the wire order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct RunRecord {
    pub(crate) run_id: String,
    pub(crate) root_run_id: String,
    pub(crate) parent_run_id: Option<String>,
    pub(crate) run_kind: String,
    pub(crate) agent_id: Option<String>,
    pub(crate) agent_name: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) response_id: Option<String>,
    pub(crate) execution_id: Option<String>,
    pub(crate) status: RunStatus,
    pub(crate) latest_event_type: Option<String>,
    pub(crate) latest_source: Option<String>,
    pub(crate) latest_message: Option<String>,
    pub(crate) started_at: Option<i64>,
    pub(crate) updated_at: Option<i64>,
    pub(crate) completed_at: Option<i64>,
    pub(crate) failed_at: Option<i64>,
    pub(crate) event_count: i64,
    pub(crate) meta: JsonMap,
}

/// Sets `field` to `text`, reusing its buffer.
fn set_text(field: &mut Option<String>, text: &str) {
    match field {
        Some(held) => {
            held.clear();
            held.push_str(text);
        }
        None => *field = Some(text.to_owned()),
    }
}

/// Sets a meta entry unless it already holds `value`.
fn set_meta(meta: &mut JsonMap, key: &str, value: &Value) {
    if meta.get(key) != Some(value) {
        meta.insert(key.to_owned(), value.clone());
    }
}

impl RunRecord {
    /// The record a run's first event creates (before the event is applied).
    pub(crate) fn first(event: &NewEvent) -> Option<Self> {
        let run = event.run.as_ref()?;
        Some(RunRecord {
            run_id: run.run_id.clone(),
            root_run_id: run.root_id().to_owned(),
            parent_run_id: run.parent_run_id.clone(),
            run_kind: run.run_kind.clone(),
            agent_id: None,
            agent_name: None,
            session_id: None,
            response_id: None,
            execution_id: None,
            status: RunStatus::Unknown,
            latest_event_type: None,
            latest_source: None,
            latest_message: None,
            started_at: Some(event.timestamp),
            updated_at: None,
            completed_at: None,
            failed_at: None,
            event_count: 0,
            meta: JsonMap::new(),
        })
    }

    /// Applies one of the run's events.
    pub(crate) fn apply(&mut self, event: &NewEvent) {
        let Some(run) = &event.run else { return };
        for (field, value) in [
            (&mut self.agent_id, &run.agent_id),
            (&mut self.agent_name, &run.agent_name),
            (&mut self.session_id, &run.session_id),
            (&mut self.response_id, &run.response_id),
            (&mut self.execution_id, &run.execution_id),
        ] {
            if value.is_some() {
                field.clone_from(value);
            }
        }
        if let Some(status) = infer_status(&event.event_type) {
            self.status = status;
            match status {
                RunStatus::Completed => self.completed_at = Some(event.timestamp),
                RunStatus::Failed => self.failed_at = Some(event.timestamp),
                _ => {}
            }
        }
        // Most events of a run repeat what its record holds: the buffers
        // are reused and unchanged meta entries left as they are.
        set_text(&mut self.latest_event_type, &event.event_type);
        set_text(&mut self.latest_source, &event.source);
        self.latest_message.clone_from(&event.message);
        self.updated_at = Some(event.timestamp);
        self.event_count += 1;
        for (key, value) in &run.meta {
            set_meta(&mut self.meta, key, value);
        }
        for (key, value) in &event.run_meta {
            set_meta(&mut self.meta, key, value);
        }
    }

    /// When this finished run ended, for its descendants' orphan check.
    fn terminal_at(&self) -> Option<i64> {
        self.meta
            .get("devtools_stale_anchor_at")
            .and_then(Value::as_i64)
            .or(self.failed_at)
            .or(self.completed_at)
            .or(self.updated_at)
    }

    fn mark_failed(&mut self, now: i64, reason: &str, anchor: Option<i64>) {
        self.status = RunStatus::Failed;
        self.failed_at = Some(now);
        self.meta
            .insert("devtools_stale_reason".to_owned(), reason.into());
        self.meta
            .insert("devtools_stale_detected_at".to_owned(), now.into());
        if let Some(anchor) = anchor {
            self.meta
                .insert("devtools_stale_anchor_at".to_owned(), anchor.into());
        }
    }
}

/// Reports runs with the status queries show (see the module docs), reading
/// ancestors through `fetch` once each.
pub(crate) struct Resolver<F> {
    now: i64,
    fetch: F,
    raw: HashMap<String, Option<RunRecord>>,
    resolved: HashMap<String, RunRecord>,
    resolving: HashSet<String>,
}

impl<F: FnMut(&str) -> Option<RunRecord>> Resolver<F> {
    pub(crate) fn new(now: i64, fetch: F) -> Self {
        Resolver {
            now,
            fetch,
            raw: HashMap::new(),
            resolved: HashMap::new(),
            resolving: HashSet::new(),
        }
    }

    /// Makes a record known without a fetch (records already read).
    pub(crate) fn know(&mut self, record: &RunRecord) {
        self.raw
            .entry(record.run_id.clone())
            .or_insert_with(|| Some(record.clone()));
    }

    fn raw(&mut self, run_id: &str) -> Option<RunRecord> {
        if let Some(known) = self.raw.get(run_id) {
            return known.clone();
        }
        let fetched = (self.fetch)(run_id);
        self.raw.insert(run_id.to_owned(), fetched.clone());
        fetched
    }

    /// The record as reported.
    pub(crate) fn resolve(&mut self, record: RunRecord) -> RunRecord {
        if let Some(done) = self.resolved.get(&record.run_id) {
            return done.clone();
        }
        if !matches!(record.status, RunStatus::Unknown | RunStatus::Running)
            || !self.resolving.insert(record.run_id.clone())
        {
            return record;
        }
        let mut resolved = record;
        let updated_at = resolved.updated_at.or(resolved.started_at);
        if updated_at.is_some_and(|at| self.now.saturating_sub(at) >= STALE_AFTER_MS) {
            resolved.mark_failed(self.now, "stale_timeout", None);
        } else if let Some(anchor) = (self.resolving.len() <= MAX_ANCESTRY)
            .then(|| self.terminal_ancestor(&resolved))
            .flatten()
            .and_then(|ancestor| ancestor.terminal_at())
        {
            if updated_at.is_some_and(|at| at <= anchor)
                && self.now.saturating_sub(anchor) >= ORPHAN_AFTER_MS
            {
                resolved.mark_failed(self.now, "orphaned_after_ancestor_terminal", Some(anchor));
            }
        }
        self.resolving.remove(&resolved.run_id);
        self.resolved
            .insert(resolved.run_id.clone(), resolved.clone());
        resolved
    }

    /// The nearest ancestor reported finished, walking up through unfinished
    /// ones until a parent is unknown (or the chain loops).
    fn terminal_ancestor(&mut self, record: &RunRecord) -> Option<RunRecord> {
        let mut seen = HashSet::from([record.run_id.clone()]);
        let mut parent_id = record.parent_run_id.clone();
        while let Some(id) = parent_id {
            if !seen.insert(id.clone()) {
                return None;
            }
            let parent = self.raw(&id)?;
            let parent = self.resolve(parent);
            if parent.status.is_terminal() {
                return Some(parent);
            }
            parent_id = parent.parent_run_id;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_agentlys_suffix_rules() {
        let cases = [
            ("agent.started", Some(RunStatus::Running)),
            ("a_resumed", Some(RunStatus::Running)),
            ("model.completed", Some(RunStatus::Completed)),
            ("x.interrupt_raised_completed", Some(RunStatus::Completed)),
            ("started_failed", Some(RunStatus::Failed)),
            ("interrupt_raised", Some(RunStatus::Waiting)),
            ("a.waiting", Some(RunStatus::Waiting)),
            ("waiting", None),
            ("completed", None),
            ("a.complete", None),
            ("model.requested", None),
            ("A.COMPLETED", None),
        ];
        for (event_type, status) in cases {
            assert_eq!(infer_status(event_type), status, "{event_type}");
        }
    }
}
