//! The HTTP API under `/observation`, as Agently DevTools 0.2 serves it:
//! the same paths, query parameters, `{"status": 200, "data": ..., "msg":
//! null}` envelope, `{"detail": ...}` errors and API-key rules.
//!
//! Routes: `POST /ingest`; `GET /runs`, `/runs/{id}`, `/runs/{id}/children`,
//! `/runs/{id}/tree`, `/runs/{id}/events`, `/events/recent`,
//! `/events/{id}/raw`; `POST /flows/register` (a flow definition, answered
//! with Agently's payload) and `GET /flows/resolve?flow_name=&app_id=&group_id=`
//! (the group's definition, else the app-level one, else 404); `GET
//! /stream` (server-sent events) and `/ws` (websocket); and, outside the
//! prefix, `/healthz` and the viewer at `/`.
//!
//! Bad input never gets a 500: a body or query value of the wrong type is a
//! 422 in FastAPI's shape (`{"detail": [{"type", "loc", "msg"}]}`, `loc`
//! naming the field), a body over the limit a 413. In an ingest batch with
//! invalid events, the valid ones are stored and the answer is a 422 naming
//! every invalid event's index and field, with `"ingested"` counting the
//! stored ones: a client that re-sends the batch or splits it to find the
//! bad event (Agently's bridge, this crate's forwarder) stores nothing twice,
//! since events are deduplicated by `event_id`. A blank `flow_name` is a
//! 422 naming it (Agently answers 500).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use regex::Regex;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use super::budget::{parsed_estimate, Full, Share};
use super::compact::view;
use super::error::{ServerError, ServerErrorKind};
use super::flows::{declared_in, parse_registration, resolve, FlowKey};
use super::guard::{self, Guard};
use super::ingest::{parse_body, FieldError, Loc, NewEvent};
use super::listen;
use super::query::{
    get_event, get_run, normalize_search, query_events, query_runs, run_children, run_tree,
    EventQuery, RunQuery, NATIVE_SUFFIXES, WORKFLOW_SUFFIXES,
};
use super::runs::RunStatus;
use super::server::App;
use super::stream;

/// The API's path prefix.
pub(crate) const PREFIX: &str = "/observation";
/// Events `/events/recent` returns when no `limit` is given (Agently's).
const RECENT_LIMIT: usize = 200;
/// How long a shutdown waits for open requests to finish.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves until the shutdown flag is set, then for at most
/// [`SHUTDOWN_GRACE`] while open requests finish; with the access rules
/// (`Host`, origins, content type) and the connection timeouts and limit
/// (see [`super::listen`]).
pub(crate) async fn run(
    listener: std::net::TcpListener,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ServerError> {
    let bound = listener
        .local_addr()
        .map_err(|e| ServerError::new(ServerErrorKind::Bind, e.to_string()))?;
    let transport = app.access.transport.clone();
    let guard = Arc::new(Guard::new(app.access.clone(), bound));
    listen::serve(listener, router(app, guard), transport, shutdown).await
}

/// The routes, behind the access rules: `Host`, then the origin (both
/// before the API key and before any body is read), then, for bodies,
/// the content type.
fn router(app: Arc<App>, guard: Arc<Guard>) -> Router {
    let json = || middleware::from_fn(guard::json_body);
    Router::new()
        .route("/", get(viewer))
        .route("/healthz", get(healthz))
        .route(&format!("{PREFIX}/ingest"), post(ingest).layer(json()))
        .route(&format!("{PREFIX}/runs"), get(runs))
        .route(&format!("{PREFIX}/runs/{{run_id}}"), get(one_run))
        .route(&format!("{PREFIX}/runs/{{run_id}}/children"), get(children))
        .route(&format!("{PREFIX}/runs/{{run_id}}/tree"), get(tree))
        .route(&format!("{PREFIX}/runs/{{run_id}}/events"), get(run_events))
        .route(&format!("{PREFIX}/events/recent"), get(recent_events))
        .route(&format!("{PREFIX}/events/{{event_id}}/raw"), get(raw_event))
        .route(
            &format!("{PREFIX}/flows/register"),
            post(register_flow).layer(json()),
        )
        .route(&format!("{PREFIX}/flows/resolve"), get(resolve_flow))
        .route(&format!("{PREFIX}/stream"), get(stream::sse))
        .route(&format!("{PREFIX}/ws"), get(stream::websocket))
        .fallback(|| async { detail(StatusCode::NOT_FOUND, "Not Found") })
        .method_not_allowed_fallback(|| async {
            detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        })
        .with_state(app)
        .layer(middleware::from_fn_with_state(guard, guard::check))
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `{"detail": "..."}`, Agently's error body.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({ "detail": message }).to_string())
}

/// 422 with FastAPI's list of bad fields.
pub(crate) fn invalid(errors: &[FieldError]) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({ "detail": errors }).to_string(),
    )
}

fn failure(error: &ServerError) -> Response {
    detail(StatusCode::SERVICE_UNAVAILABLE, &error.to_string())
}

/// `{"status": 200, "data": DATA, "msg": null}` around JSON text.
fn envelope(data: &str) -> Response {
    let mut body = String::with_capacity(data.len() + 32);
    body.push_str("{\"status\":200,\"data\":");
    body.push_str(data);
    body.push_str(",\"msg\":null}");
    json_response(StatusCode::OK, body)
}

fn envelope_of<T: Serialize>(data: &T) -> Response {
    match serde_json::to_string(data) {
        Ok(text) => envelope(&text),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Why a request is refused before it is served.
pub(crate) enum Refusal {
    /// No valid API key (401).
    Unauthorized,
    /// Bad values, each named (422).
    Invalid(Vec<FieldError>),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized => unauthorized(),
            Refusal::Invalid(errors) => invalid(&errors),
        }
    }
}

/// The query string, every pair in order (repeated keys kept).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The pairs, or a 422 for a query string that does not decode.
    pub(crate) fn from(query: QueryPairs) -> Result<Self, Refusal> {
        match query {
            Ok(Query(pairs)) => Ok(Params(pairs)),
            Err(rejection) => Err(Refusal::Invalid(vec![FieldError::new(
                "query_invalid",
                vec![Loc::Key("query".to_owned())],
                format!("the query string does not decode: {rejection}"),
            )])),
        }
    }

    /// The last value given for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Every value given for `name`, or `None` when there is none.
    pub(crate) fn all(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Typed reads of query parameters; every bad one is collected.
pub(crate) struct Checked<'a> {
    pub(crate) params: &'a Params,
    pub(crate) errors: Vec<FieldError>,
}

impl<'a> Checked<'a> {
    pub(crate) fn new(params: &'a Params) -> Self {
        Checked {
            params,
            errors: Vec::new(),
        }
    }

    fn bad(&mut self, kind: &'static str, name: &str, msg: String) {
        self.errors.push(FieldError::new(
            kind,
            vec![Loc::Key("query".to_owned()), Loc::Key(name.to_owned())],
            msg,
        ));
    }

    pub(crate) fn int(&mut self, name: &str) -> Option<i64> {
        let text = self.params.get(name)?;
        match text.trim().parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.bad(
                    "int_parsing",
                    name,
                    format!("`{name}` must be an integer, got {text:?}"),
                );
                None
            }
        }
    }

    pub(crate) fn limit(&mut self) -> Option<usize> {
        let limit = self.int("limit")?;
        match usize::try_from(limit) {
            Ok(limit) => Some(limit),
            Err(_) => {
                self.bad(
                    "greater_than_equal",
                    "limit",
                    format!("`limit` must be 0 or more, got {limit}"),
                );
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, name: &str, default: bool) -> bool {
        let Some(text) = self.params.get(name) else {
            return default;
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => true,
            "false" | "0" | "no" | "off" | "f" | "n" => false,
            _ => {
                self.bad(
                    "bool_parsing",
                    name,
                    format!("`{name}` must be true or false, got {text:?}"),
                );
                default
            }
        }
    }

    pub(crate) fn pattern(&mut self) -> Option<Regex> {
        let text = self.params.get("app_id_pattern")?;
        match Regex::new(text) {
            Ok(re) => Some(re),
            Err(e) => {
                self.bad(
                    "regex_invalid",
                    "app_id_pattern",
                    format!("`app_id_pattern` is not a valid regular expression: {e}"),
                );
                None
            }
        }
    }

    fn status(&mut self) -> Option<RunStatus> {
        let text = self.params.get("status")?;
        let status = RunStatus::parse(text);
        if status.is_none() {
            self.bad(
                "literal_error",
                "status",
                format!(
                    "`status` must be one of unknown, running, waiting, completed, failed; got {text:?}"
                ),
            );
        }
        status
    }

    pub(crate) fn finish(self) -> Result<(), Refusal> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Invalid(self.errors))
        }
    }
}

/// Agently's `extract_bearer_token`: `Bearer K` gives `K`, anything else
/// is taken whole.
fn bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Some(token)
        }
        _ => (!value.is_empty()).then_some(value),
    }
}

/// Equality that takes as long whatever the first difference.
fn same_key(given: &str, key: &str) -> bool {
    given.len() == key.len()
        && given
            .bytes()
            .zip(key.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Whether the request carries the API key (always, when none is set). As
/// Agently: the first credential given counts, in the order
/// `Authorization`, `X-API-Key`, `?api_key=`.
fn authorized(app: &App, headers: &HeaderMap, params: &Params) -> bool {
    let Some(key) = &app.api_key else {
        return true;
    };
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    [
        header(header::AUTHORIZATION).and_then(bearer),
        header(header::HeaderName::from_static("x-api-key")),
        params.get("api_key"),
    ]
    .into_iter()
    .flatten()
    .find(|given| !given.is_empty())
    .is_some_and(|given| same_key(given, key))
}

/// The 401 Agently answers.
fn unauthorized() -> Response {
    detail(StatusCode::UNAUTHORIZED, "Invalid API key.")
}

/// The query parameters of a request whose API key (if one is required)
/// is good: taking it as a handler argument refuses others with a 401, and
/// a query string that does not decode with a 422.
pub(crate) struct Admitted(pub(crate) Params);

impl FromRequestParts<Arc<App>> for Admitted {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Refusal> {
        let params = Params::from(Query::from_request_parts(parts, app).await)?;
        if authorized(app, &parts.headers, &params) {
            Ok(Admitted(params))
        } else {
            Err(Refusal::Unauthorized)
        }
    }
}

fn now() -> i64 {
    crate::event::now_millis()
}

/// The query string as handlers receive it.
type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The viewer page, built once: its type filter gets the TriggerFlow alias
/// tables the server's own filters use, so the two match the same events.
async fn viewer() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(|| {
        let aliases = json!({ "workflow": WORKFLOW_SUFFIXES, "native": NATIVE_SUFFIXES });
        include_str!("viewer.html").replacen("/*TRIGGERFLOW_ALIASES*/null", &aliases.to_string(), 1)
    }))
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let skipped = app.feed.skipped();
    envelope(
        &json!({ "ok": true, "route_prefix": PREFIX, "stream_events_skipped": skipped })
            .to_string(),
    )
}

/// `POST /ingest`: the body is read within the in-flight budget (503 with
/// `Retry-After` when it stays full), parsed off the async workers when it
/// is large, and answered once all its events are committed.
async fn ingest(
    State(app): State<Arc<App>>,
    _: Admitted,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (bytes, mut share) = match read_body(&app, &headers, body).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let redaction = app.redaction.clone();
    let parse = move |bytes: Vec<u8>| {
        parse_body(&bytes, &redaction).map(|batch| {
            let declared = declared_in(&batch.events);
            (batch, declared)
        })
    };
    let (batch, declared) = match off_the_workers(bytes, parse).await {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(error)) => return invalid(&[error]),
        Err(response) => return response,
    };
    // The body is gone: what stays in flight is the parsed batch.
    app.budget.settle(&mut share, in_memory(&batch.events));
    let stored = if batch.events.is_empty() {
        0
    } else {
        match app.writer.write(batch.events, declared).await {
            Ok(stored) => stored,
            Err(error) => return failure(&error),
        }
    };
    drop(share);
    if batch.rejected.is_empty() {
        envelope(&json!({ "ingested": stored }).to_string())
    } else {
        let errors: Vec<&FieldError> = batch.rejected.iter().map(|(_, e)| e).collect();
        json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": errors, "data": { "ingested": stored } }).to_string(),
        )
    }
}

/// Bodies up to this size are parsed on the async workers (it takes
/// microseconds); larger ones on a blocking thread, so that a large or
/// hostile body never keeps the workers from other requests.
const INLINE_PARSE: usize = 16 << 10;

/// Runs `parse` on the body, on a blocking thread when the body is large.
async fn off_the_workers<T: Send + 'static>(
    bytes: Vec<u8>,
    parse: impl FnOnce(Vec<u8>) -> T + Send + 'static,
) -> Result<T, Response> {
    if bytes.len() <= INLINE_PARSE {
        return Ok(parse(bytes));
    }
    tokio::task::spawn_blocking(move || parse(bytes))
        .await
        .map_err(|e| {
            detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the body could not be parsed: {e}"),
            )
        })
}

/// About what parsed events take in memory: their records, texts and run
/// contexts.
fn in_memory(events: &[NewEvent]) -> usize {
    events
        .iter()
        .map(|e| {
            std::mem::size_of::<NewEvent>()
                + e.json.capacity()
                + e.event_id.len()
                + e.event_type.len()
                + e.source.len()
                + e.run.as_ref().map_or(0, |_| 256)
                + 128
        })
        .sum()
}

/// Bodies over the limit are still read (and dropped) up to this much
/// more, so that the client, which sends its whole body before reading,
/// gets the 413 rather than a broken connection.
const DRAIN_LIMIT: usize = 64 << 20;

/// Bodies without a `Content-Length` are charged to the in-flight budget
/// this much ahead as they arrive.
const CHARGE_STEP: usize = 64 << 10;

/// The 503 of a full in-flight budget, with `Retry-After`.
fn busy(full: &Full) -> Response {
    let mut response = detail(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "the server has {} MiB of work in flight, its limit: retry in a second",
            full.budget >> 20
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The body, with its share of the in-flight budget (taken before it is
/// read: for its `Content-Length`, or as its chunks arrive); or the answer
/// when it is over the limit (413), breaks off (400), or the budget stays
/// full (503).
async fn read_body(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<u8>, Share), Response> {
    let limit = app.body_limit;
    let since = tokio::time::Instant::now();
    let mut share = app.budget.empty();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n <= limit);
    let mut charged = 0usize;
    // When the budget stays full, the body is still read (and dropped), so
    // that the client gets the 503 rather than a broken connection.
    let mut full = None;
    if let Some(n) = declared {
        match app.budget.grow(&mut share, n, since).await {
            Ok(()) => charged = n,
            Err(refused) => full = Some(refused),
        }
    }
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::with_capacity(if full.is_none() {
        declared.unwrap_or(0)
    } else {
        0
    });
    let mut total = 0usize;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            invalid(&[FieldError::new(
                "body_incomplete",
                vec![Loc::Key("body".to_owned())],
                format!("the body could not be read to its end: {e}"),
            )])
        })?;
        total = total.saturating_add(chunk.len());
        if total <= limit && full.is_none() {
            if total > charged {
                let step = (total - charged).max(CHARGE_STEP).min(limit - charged);
                match app.budget.grow(&mut share, step, since).await {
                    Ok(()) => charged += step,
                    Err(refused) => {
                        full = Some(refused);
                        bytes = Vec::new();
                        share = app.budget.empty();
                        continue;
                    }
                }
            }
            bytes.extend_from_slice(&chunk);
        } else {
            bytes = Vec::new();
            share = app.budget.empty();
            if total > limit.saturating_add(DRAIN_LIMIT) {
                break;
            }
        }
    }
    if total > limit {
        return Err(json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "detail": [{
                "type": "body_too_large",
                "loc": ["body"],
                "msg": format!(
                    "the body is larger than this server's limit of {limit} bytes; send smaller batches"
                ),
            }]})
            .to_string(),
        ));
    }
    if full.is_none() {
        // Bodies of tiny events take more than charged: charge what the
        // parse will take before it starts.
        full = app
            .budget
            .reserve(&mut share, parsed_estimate(&bytes), since)
            .await
            .err();
    }
    if let Some(full) = full {
        return Err(busy(&full));
    }
    Ok((bytes, share))
}

async fn runs(State(app): State<Arc<App>>, Admitted(params): Admitted) -> Response {
    let mut checked = Checked::new(&params);
    let query = RunQuery {
        run_id: params.string("run_id"),
        root_run_id: params.string("root_run_id"),
        parent_run_id: params.string("parent_run_id"),
        run_kind: params.string("run_kind"),
        status: checked.status(),
        agent_id: params.string("agent_id"),
        session_id: params.string("session_id"),
        app_id: params.string("app_id"),
        app_id_pattern: checked.pattern(),
        group_id: params.string("group_id"),
        flow_name: params.string("flow_name"),
        search: normalize_search(params.string("search")),
        since: checked.int("since"),
        until: checked.int("until"),
        limit: checked.limit(),
    };
    if let Err(refused) = checked.finish() {
        return refused.into_response();
    }
    match app
        .readers
        .run(move |conn| query_runs(conn, &query, now()))
        .await
    {
        Ok(records) => envelope_of(&records),
        Err(error) => failure(&error),
    }
}

async fn one_run(State(app): State<Arc<App>>, Path(run_id): Path<String>, _: Admitted) -> Response {
    let id = run_id.clone();
    match app.readers.run(move |conn| get_run(conn, &id, now())).await {
        Ok(Some(record)) => envelope_of(&record),
        Ok(None) => detail(StatusCode::NOT_FOUND, &format!("Run '{run_id}' not found.")),
        Err(error) => failure(&error),
    }
}

async fn children(
    State(app): State<Arc<App>>,
    Path(run_id): Path<String>,
    _: Admitted,
) -> Response {
    match app
        .readers
        .run(move |conn| run_children(conn, &run_id, now()))
        .await
    {
        Ok(records) => envelope_of(&records),
        Err(error) => failure(&error),
    }
}

async fn tree(State(app): State<Arc<App>>, Path(run_id): Path<String>, _: Admitted) -> Response {
    let id = run_id.clone();
    match app
        .readers
        .run(move |conn| run_tree(conn, &id, now()))
        .await
    {
        Ok(Some(tree)) => envelope_of(&tree),
        Ok(None) => detail(StatusCode::NOT_FOUND, &format!("Run '{run_id}' not found.")),
        Err(error) => failure(&error),
    }
}

/// The event filters shared by `/events/recent` and `/runs/{id}/events`;
/// `include_descendants` is read only with a run (as Agently DevTools,
/// whose `/events/recent` takes no such parameter).
fn event_query(
    checked: &mut Checked<'_>,
    run_id: Option<String>,
    default_limit: Option<usize>,
) -> EventQuery {
    let params = checked.params;
    EventQuery {
        include_descendants: run_id.is_some() && checked.boolean("include_descendants", false),
        run_id,
        event_types: params.all("event_types"),
        source: params.string("source"),
        level: params.string("level"),
        app_id: params.string("app_id"),
        app_id_pattern: checked.pattern(),
        group_id: params.string("group_id"),
        search: normalize_search(params.string("search")),
        since: checked.int("since"),
        until: checked.int("until"),
        limit: checked.limit().or(default_limit),
    }
}

/// Whether the query asks for stored payloads rather than the compact view.
pub(crate) fn raw_mode(params: &Params) -> bool {
    params
        .get("payload_mode")
        .is_some_and(|mode| mode.trim().eq_ignore_ascii_case("raw"))
}

async fn events_response(app: Arc<App>, query: EventQuery, raw: bool) -> Response {
    let found = app
        .readers
        .run(move |conn| query_events(conn, &query))
        .await;
    match found {
        Ok(events) => {
            let mut data =
                String::with_capacity(events.iter().map(|e| e.json.len() + 1).sum::<usize>() + 2);
            data.push('[');
            for (i, event) in events.iter().enumerate() {
                if i > 0 {
                    data.push(',');
                }
                data.push_str(&view(&event.json, event.compact, raw));
            }
            data.push(']');
            envelope(&data)
        }
        Err(error) => failure(&error),
    }
}

async fn run_events(
    State(app): State<Arc<App>>,
    Path(run_id): Path<String>,
    Admitted(params): Admitted,
) -> Response {
    let mut checked = Checked::new(&params);
    let query = event_query(&mut checked, Some(run_id), None);
    if let Err(refused) = checked.finish() {
        return refused.into_response();
    }
    events_response(app, query, raw_mode(&params)).await
}

/// `GET /events/recent`: the newest events with Agently's filters. As in
/// Agently DevTools 0.2, `run_id` and `include_descendants` are not among
/// them (its route does not declare them, and FastAPI ignores undeclared
/// parameters): the answer is the same as without them, whatever their
/// value. A run's events are at `/runs/{id}/events`.
async fn recent_events(State(app): State<Arc<App>>, Admitted(params): Admitted) -> Response {
    let mut checked = Checked::new(&params);
    let query = event_query(&mut checked, None, Some(RECENT_LIMIT));
    if let Err(refused) = checked.finish() {
        return refused.into_response();
    }
    events_response(app, query, raw_mode(&params)).await
}

async fn raw_event(
    State(app): State<Arc<App>>,
    Path(event_id): Path<String>,
    _: Admitted,
) -> Response {
    let id = event_id.clone();
    match app.readers.run(move |conn| get_event(conn, &id)).await {
        Ok(Some(json)) => envelope(&json),
        Ok(None) => detail(
            StatusCode::NOT_FOUND,
            &format!("Event '{event_id}' not found."),
        ),
        Err(error) => failure(&error),
    }
}

async fn register_flow(
    State(app): State<Arc<App>>,
    _: Admitted,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (bytes, share) = match read_body(&app, &headers, body).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let flow = match off_the_workers(bytes, |bytes| parse_registration(&bytes)).await {
        Ok(Ok(flow)) => flow,
        Ok(Err(errors)) => return invalid(&errors),
        Err(response) => return response,
    };
    let stored = app.writer.register_flow(flow).await;
    drop(share);
    match stored {
        Ok(payload) => envelope(&payload),
        Err(error) => failure(&error),
    }
}

async fn resolve_flow(State(app): State<Arc<App>>, Admitted(params): Admitted) -> Response {
    let at = || {
        vec![
            Loc::Key("query".to_owned()),
            Loc::Key("flow_name".to_owned()),
        ]
    };
    let Some(flow_name) = params.string("flow_name") else {
        return invalid(&[FieldError::new(
            "missing",
            at(),
            "`flow_name` is required: the name of the flow to resolve",
        )]);
    };
    let Some(key) = FlowKey::new(params.get("app_id"), params.get("group_id"), &flow_name) else {
        return invalid(&[FieldError::new(
            "string_too_short",
            at(),
            "`flow_name` must not be blank: give the flow's name",
        )]);
    };
    match app.readers.run(move |conn| resolve(conn, &key)).await {
        Ok(Some(payload)) => envelope(&payload),
        Ok(None) => detail(
            StatusCode::NOT_FOUND,
            &format!("Flow definition '{flow_name}' not found."),
        ),
        Err(error) => failure(&error),
    }
}
