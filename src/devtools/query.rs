//! Reads: runs with Agently's filters and reported status, a run's children
//! and tree, events with Agently's filters, one event's stored text.

use std::collections::{HashMap, HashSet};

use regex::Regex;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::Serialize;

use super::error::ServerError;
use super::runs::{Resolver, RunRecord, RunStatus};
use super::store::{run_from_row, RUN_COLUMNS};

/// TriggerFlow suffixes whose `workflow.*` names are aliases (Agently DevTools' list).
pub(crate) const WORKFLOW_SUFFIXES: [&str; 18] = [
    "definition_declared",
    "execution_started",
    "execution_completed",
    "execution_failed",
    "execution_sealed",
    "execution_unsealed",
    "execution_closed",
    "execution_resumed",
    "interrupt_raised",
    "stream_item_emitted",
    "stream_item_rejected",
    "stream_closed",
    "event_rejected",
    "continue_rejected",
    "unseal_rejected",
    "pending_tasks_cancelled",
    "auto_close_timeout",
    "result_set",
];
/// TriggerFlow suffixes whose `trigger_flow.*` names are aliases.
pub(crate) const NATIVE_SUFFIXES: [&str; 3] = ["signal", "handler_dispatch", "annotation"];

/// An event type and its TriggerFlow aliases (`workflow.*`,
/// `trigger_flow.*`, `triggerflow.*`), as Agently DevTools matches them.
pub(crate) fn type_aliases(event_type: &str) -> Vec<String> {
    let mut aliases = vec![event_type.to_owned()];
    let suffix = if let Some(s) = event_type.strip_prefix("triggerflow.") {
        s
    } else if let Some(s) = event_type
        .strip_prefix("workflow.")
        .filter(|s| WORKFLOW_SUFFIXES.contains(s))
    {
        s
    } else if let Some(s) = event_type
        .strip_prefix("trigger_flow.")
        .filter(|s| NATIVE_SUFFIXES.contains(s))
    {
        s
    } else {
        return aliases;
    };
    let mut add = |name: String| {
        if !aliases.contains(&name) {
            aliases.push(name);
        }
    };
    add(format!("triggerflow.{suffix}"));
    if WORKFLOW_SUFFIXES.contains(&suffix) {
        add(format!("workflow.{suffix}"));
    }
    if NATIVE_SUFFIXES.contains(&suffix) {
        add(format!("trigger_flow.{suffix}"));
    }
    aliases
}

/// Search text as Agently compares it: trimmed, lower-case; empty means no search.
pub(crate) fn normalize_search(search: Option<String>) -> Option<String> {
    search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

/// The filters of `/runs`.
#[derive(Default)]
pub(crate) struct RunQuery {
    pub(crate) run_id: Option<String>,
    pub(crate) root_run_id: Option<String>,
    pub(crate) parent_run_id: Option<String>,
    pub(crate) run_kind: Option<String>,
    pub(crate) status: Option<RunStatus>,
    pub(crate) agent_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) app_id_pattern: Option<Regex>,
    pub(crate) group_id: Option<String>,
    pub(crate) flow_name: Option<String>,
    pub(crate) search: Option<String>,
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) limit: Option<usize>,
}

/// The filters of `/events/recent` and `/runs/{id}/events`.
#[derive(Default)]
pub(crate) struct EventQuery {
    pub(crate) run_id: Option<String>,
    pub(crate) include_descendants: bool,
    pub(crate) event_types: Option<Vec<String>>,
    pub(crate) source: Option<String>,
    pub(crate) level: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) app_id_pattern: Option<Regex>,
    pub(crate) group_id: Option<String>,
    pub(crate) search: Option<String>,
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) limit: Option<usize>,
}

/// A stored event as read: its JSON text and whether the compact view cuts it.
pub(crate) struct StoredEvent {
    pub(crate) json: String,
    pub(crate) compact: bool,
}

/// Levels of a run tree served; runs nested deeper are left out: building
/// and writing the tree recurses, and must stay within a thread's stack
/// whatever parent links clients send (Agently's own server fails at a few
/// hundred levels, on Python's recursion limit).
const MAX_TREE_DEPTH: usize = 256;

/// A run and its descendants, children in start order.
#[derive(Serialize)]
pub(crate) struct RunTree {
    run: RunRecord,
    children: Vec<RunTree>,
}

/// SQL conditions and their parameters.
#[derive(Default)]
struct Where {
    sql: String,
    params: Vec<Sql>,
}

impl Where {
    fn add(&mut self, condition: &str, values: impl IntoIterator<Item = Sql>) {
        self.sql.push_str(if self.sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        self.sql.push_str(condition);
        self.params.extend(values);
    }

    fn eq(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.add(&format!("{column} = ?"), [Sql::Text(value.clone())]);
        }
    }
}

/// The descendants of `?` (the run included), through parent links.
const DESCENDANTS: &str = "WITH RECURSIVE d(id) AS (VALUES (?) UNION SELECT r.run_id FROM runs r \
     JOIN d ON r.parent_run_id = d.id) SELECT id FROM d";

fn fetch_run(conn: &Connection, run_id: &str) -> Option<RunRecord> {
    conn.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"))
        .and_then(|mut select| select.query_row([run_id], run_from_row).optional())
        .ok()
        .flatten()
}

fn runs_where(
    conn: &Connection,
    sql: &str,
    params: Vec<Sql>,
) -> Result<Vec<RunRecord>, ServerError> {
    let mut select = conn.prepare_cached(sql)?;
    let rows = select.query_map(params_from_iter(params), run_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn regex_matches(pattern: &Option<Regex>, value: Option<&str>) -> bool {
    pattern
        .as_ref()
        .is_none_or(|re| value.is_some_and(|v| re.is_match(v)))
}

/// Runs matching the query, most recently updated first, with the status
/// queries report.
pub(crate) fn query_runs(
    conn: &Connection,
    query: &RunQuery,
    now: i64,
) -> Result<Vec<RunRecord>, ServerError> {
    let mut filter = Where::default();
    filter.eq("run_id", &query.run_id);
    filter.eq("root_run_id", &query.root_run_id);
    filter.eq("parent_run_id", &query.parent_run_id);
    filter.eq("run_kind", &query.run_kind);
    filter.eq("agent_id", &query.agent_id);
    filter.eq("session_id", &query.session_id);
    filter.eq("json_extract(meta, '$.app_id')", &query.app_id);
    filter.eq("json_extract(meta, '$.group_id')", &query.group_id);
    filter.eq("json_extract(meta, '$.flow_name')", &query.flow_name);
    if query.since.is_some() || query.until.is_some() {
        filter.add(
            "EXISTS (SELECT 1 FROM events e WHERE e.run_id = runs.run_id \
             AND e.timestamp >= ? AND e.timestamp <= ?)",
            [
                Sql::Integer(query.since.unwrap_or(i64::MIN)),
                Sql::Integer(query.until.unwrap_or(i64::MAX)),
            ],
        );
    }
    let filtered_here =
        query.status.is_some() || query.app_id_pattern.is_some() || query.search.is_some();
    let mut sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs{} ORDER BY updated_at DESC, seq",
        filter.sql
    );
    if let (false, Some(limit)) = (filtered_here, query.limit) {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let records = runs_where(conn, &sql, filter.params)?;
    let mut resolver = Resolver::new(now, |id: &str| fetch_run(conn, id));
    for record in &records {
        resolver.know(record);
    }
    let limit = query.limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for record in records {
        if out.len() >= limit {
            break;
        }
        let app_id = record.meta.get("app_id").and_then(|v| v.as_str());
        if !regex_matches(&query.app_id_pattern, app_id) {
            continue;
        }
        if let Some(needle) = &query.search {
            if !run_matches_search(conn, &record, needle)? {
                continue;
            }
        }
        let record = resolver.resolve(record);
        if query.status.is_some_and(|status| status != record.status) {
            continue;
        }
        out.push(record);
    }
    Ok(out)
}

fn run_matches_search(
    conn: &Connection,
    record: &RunRecord,
    needle: &str,
) -> Result<bool, ServerError> {
    let direct = [
        Some(&record.run_id),
        Some(&record.root_run_id),
        record.parent_run_id.as_ref(),
        Some(&record.run_kind),
        record.agent_id.as_ref(),
        record.agent_name.as_ref(),
        record.session_id.as_ref(),
        record.response_id.as_ref(),
        record.execution_id.as_ref(),
        record.latest_event_type.as_ref(),
        record.latest_source.as_ref(),
        record.latest_message.as_ref(),
    ];
    if direct
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(needle))
        || serde_json::to_string(&record.meta)
            .is_ok_and(|meta| meta.to_lowercase().contains(needle))
    {
        return Ok(true);
    }
    let mut select = conn.prepare_cached("SELECT json FROM events WHERE run_id = ?1")?;
    let mut rows = select.query([&record.run_id])?;
    while let Some(row) = rows.next()? {
        if row.get::<_, String>(0)?.to_lowercase().contains(needle) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One run as reported, if known.
pub(crate) fn get_run(
    conn: &Connection,
    run_id: &str,
    now: i64,
) -> Result<Option<RunRecord>, ServerError> {
    let Some(record) = fetch_run(conn, run_id) else {
        return Ok(None);
    };
    Ok(Some(
        Resolver::new(now, |id: &str| fetch_run(conn, id)).resolve(record),
    ))
}

/// A run's direct children as reported, in start order.
pub(crate) fn run_children(
    conn: &Connection,
    run_id: &str,
    now: i64,
) -> Result<Vec<RunRecord>, ServerError> {
    let records = runs_where(
        conn,
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE parent_run_id = ? ORDER BY started_at, seq"),
        vec![Sql::Text(run_id.to_owned())],
    )?;
    let mut resolver = Resolver::new(now, |id: &str| fetch_run(conn, id));
    Ok(records.into_iter().map(|r| resolver.resolve(r)).collect())
}

/// A run and all its descendants as reported, if the run is known.
pub(crate) fn run_tree(
    conn: &Connection,
    run_id: &str,
    now: i64,
) -> Result<Option<RunTree>, ServerError> {
    let records = runs_where(
        conn,
        &format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE run_id IN ({DESCENDANTS}) ORDER BY started_at, seq"
        ),
        vec![Sql::Text(run_id.to_owned())],
    )?;
    let mut resolver = Resolver::new(now, |id: &str| fetch_run(conn, id));
    for record in &records {
        resolver.know(record);
    }
    let mut root = None;
    let mut children: HashMap<String, Vec<RunRecord>> = HashMap::new();
    for record in records {
        let record = resolver.resolve(record);
        if record.run_id == run_id {
            root = Some(record);
        } else if let Some(parent) = record.parent_run_id.clone() {
            children.entry(parent).or_default().push(record);
        }
    }
    let mut placed = HashSet::new();
    Ok(root.map(|root| build_tree(root, &mut children, &mut placed, 0)))
}

fn build_tree(
    run: RunRecord,
    children: &mut HashMap<String, Vec<RunRecord>>,
    placed: &mut HashSet<String>,
    depth: usize,
) -> RunTree {
    placed.insert(run.run_id.clone());
    let mut built = Vec::new();
    if depth < MAX_TREE_DEPTH {
        for kid in children.remove(&run.run_id).unwrap_or_default() {
            if !placed.contains(&kid.run_id) {
                built.push(build_tree(kid, children, placed, depth + 1));
            }
        }
    }
    RunTree {
        run,
        children: built,
    }
}

/// Events matching the query. Scoped to a run: oldest first (the latest
/// `limit` of them); otherwise newest first (the first `limit`).
pub(crate) fn query_events(
    conn: &Connection,
    query: &EventQuery,
) -> Result<Vec<StoredEvent>, ServerError> {
    let mut filter = Where::default();
    if let Some(run_id) = &query.run_id {
        if query.include_descendants {
            filter.add(
                &format!("run_id IN ({DESCENDANTS})"),
                [Sql::Text(run_id.clone())],
            );
        } else {
            filter.add("run_id = ?", [Sql::Text(run_id.clone())]);
        }
    }
    if let Some(types) = &query.event_types {
        let names: Vec<Sql> = types
            .iter()
            .flat_map(|t| type_aliases(t))
            .map(Sql::Text)
            .collect();
        let marks = vec!["?"; names.len()].join(", ");
        filter.add(&format!("event_type IN ({marks})"), names);
    }
    filter.eq("source", &query.source);
    filter.eq("level", &query.level);
    filter.eq("app_id", &query.app_id);
    filter.eq("group_id", &query.group_id);
    if let Some(since) = query.since {
        filter.add("timestamp >= ?", [Sql::Integer(since)]);
    }
    if let Some(until) = query.until {
        filter.add("timestamp <= ?", [Sql::Integer(until)]);
    }
    let mut sql = format!(
        "SELECT json, compact, app_id FROM events{} ORDER BY timestamp DESC, seq DESC",
        filter.sql
    );
    let filtered_here = query.app_id_pattern.is_some() || query.search.is_some();
    if let (false, Some(limit)) = (filtered_here, query.limit) {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut select = conn.prepare_cached(&sql)?;
    let mut rows = select.query(params_from_iter(filter.params))?;
    let limit = query.limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
        let json: String = row.get(0)?;
        let app_id: Option<String> = row.get(2)?;
        if !regex_matches(&query.app_id_pattern, app_id.as_deref()) {
            continue;
        }
        if let Some(needle) = &query.search {
            if !json.to_lowercase().contains(needle) {
                continue;
            }
        }
        out.push(StoredEvent {
            json,
            compact: row.get(1)?,
        });
    }
    if query.run_id.is_some() {
        out.reverse();
    }
    Ok(out)
}

/// One stored event's JSON text.
pub(crate) fn get_event(conn: &Connection, event_id: &str) -> Result<Option<String>, ServerError> {
    let mut select = conn.prepare_cached("SELECT json FROM events WHERE event_id = ?1")?;
    Ok(select.query_row([event_id], |row| row.get(0)).optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggerflow_aliases_match_agently_devtools() {
        assert_eq!(
            type_aliases("workflow.execution_sealed"),
            ["workflow.execution_sealed", "triggerflow.execution_sealed"]
        );
        assert_eq!(
            type_aliases("triggerflow.signal"),
            ["triggerflow.signal", "trigger_flow.signal"]
        );
        assert_eq!(type_aliases("workflow.other"), ["workflow.other"]);
        assert_eq!(type_aliases("triggerflow.other"), ["triggerflow.other"]);
    }
}
