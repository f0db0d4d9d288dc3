//! Live streams: `GET /observation/stream` (server-sent events, one
//! `data: {event}` per event) and `GET /observation/ws` (one text message
//! per event), with Agently DevTools' filters and event view. Events are
//! published once committed, in commit order, into a feed bounded in bytes
//! (see `feed.rs`). A subscriber that falls behind the oldest event still
//! held skips to it and is told how many events it skipped (matching its
//! filter or not), with `{"type": "gap", "skipped": N}`: as an
//! `event: gap` on the server-sent events stream (browsers' `onmessage`
//! ignores it), as a text message on the websocket (Agently drops the
//! oldest of 100 silently). The server counts the events skipped
//! (`stream_events_skipped` in `/healthz`).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use regex::Regex;
use serde_json::json;
use tokio::sync::watch;

use super::compact::view;
use super::feed::{Next, Subscriber};
use super::http::{detail, raw_mode, Admitted, Checked, Params};
use super::ingest::NewEvent;
use super::query::type_aliases;
use super::server::App;

/// Which events a subscriber receives (Agently's subscription filter).
struct Filter {
    /// The accepted types with their TriggerFlow aliases.
    event_types: Option<Vec<String>>,
    run_id: Option<String>,
    include_descendants: bool,
    source: Option<String>,
    level: Option<String>,
    app_id: Option<String>,
    app_id_pattern: Option<Regex>,
    group_id: Option<String>,
    raw: bool,
}

impl Filter {
    fn new(
        params: &Params,
        event_types: Option<Vec<String>>,
        include_descendants: bool,
        app_id_pattern: Option<Regex>,
    ) -> Self {
        Filter {
            event_types: event_types
                .map(|types| types.iter().flat_map(|t| type_aliases(t)).collect()),
            run_id: params.string("run_id"),
            include_descendants,
            source: params.string("source"),
            level: params.string("level"),
            app_id: params.string("app_id"),
            app_id_pattern,
            group_id: params.string("group_id"),
            raw: raw_mode(params),
        }
    }

    fn matches(&self, event: &NewEvent) -> bool {
        let same = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|wanted| value == Some(wanted))
        };
        self.event_types
            .as_ref()
            .is_none_or(|types| types.contains(&event.event_type))
            && same(&self.source, Some(&event.source))
            && same(&self.level, Some(event.level.as_str()))
            && same(&self.app_id, event.app_id.as_deref())
            && same(&self.group_id, event.group_id.as_deref())
            && self
                .app_id_pattern
                .as_ref()
                .is_none_or(|re| event.app_id.as_deref().is_some_and(|app| re.is_match(app)))
            && self.run_id.as_deref().is_none_or(|wanted| {
                event.run.as_ref().is_some_and(|run| {
                    run.run_id == wanted || (self.include_descendants && run.root_id() == wanted)
                })
            })
    }

    /// The event as served, when it matches.
    fn view(&self, event: &NewEvent) -> Option<String> {
        self.matches(event)
            .then(|| view(&event.json, event.compact, self.raw).into_owned())
    }
}

/// The gap message's data.
fn gap(skipped: u64) -> String {
    json!({ "type": "gap", "skipped": skipped }).to_string()
}

async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// `GET /observation/stream`: `run_id`, `include_descendants` (default
/// true), `event_types` (repeatable), `source`, `level`, `app_id`,
/// `app_id_pattern`, `group_id`, `limit` (end after that many),
/// `payload_mode`.
pub(crate) async fn sse(State(app): State<Arc<App>>, Admitted(params): Admitted) -> Response {
    let mut checked = Checked::new(&params);
    let include_descendants = checked.boolean("include_descendants", true);
    let pattern = checked.pattern();
    let limit = checked.limit();
    if let Err(refused) = checked.finish() {
        return refused.into_response();
    }
    let filter = Filter::new(
        &params,
        params.all("event_types"),
        include_descendants,
        pattern,
    );
    let state = (app.feed.subscribe(), filter, limit.unwrap_or(usize::MAX));
    let events = stream::unfold(state, |(mut subscriber, filter, mut left)| async move {
        if left == 0 {
            return None;
        }
        let item = match subscriber.next(|event| filter.view(event)).await {
            Next::Event(json) => {
                left -= 1;
                SseEvent::default().data(json)
            }
            // Gaps do not count toward the limit.
            Next::Gap(skipped) => SseEvent::default().event("gap").data(gap(skipped)),
            Next::Closed => return None,
        };
        Some((Ok::<_, Infallible>(item), (subscriber, filter, left)))
    })
    .take_until(stopped(app.shutdown.clone()));
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /observation/ws`: the stream's filters, with `event_type`
/// (repeatable) for the types, as Agently names it there.
pub(crate) async fn websocket(
    State(app): State<Arc<App>>,
    Admitted(params): Admitted,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return detail(
                StatusCode::BAD_REQUEST,
                &format!("this endpoint takes a websocket connection: {rejection}"),
            )
        }
    };
    // As Agently: a boolean that does not parse keeps its default, a limit
    // that is not all digits is no limit. A bad pattern is refused (Agently
    // accepts it and then sends nothing).
    let include_descendants = Checked::new(&params).boolean("include_descendants", true);
    let mut checked = Checked::new(&params);
    let pattern = checked.pattern();
    if let Err(refused) = checked.finish() {
        return refused.into_response();
    }
    let limit = params
        .get("limit")
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|l| l.parse::<usize>().ok());
    let filter = Filter::new(
        &params,
        params.all("event_type"),
        include_descendants,
        pattern,
    );
    let subscriber = app.feed.subscribe();
    let shutdown = app.shutdown.clone();
    upgrade.on_upgrade(move |socket| forward(socket, subscriber, filter, limit, shutdown))
}

async fn forward(
    mut socket: WebSocket,
    mut subscriber: Subscriber,
    filter: Filter,
    limit: Option<usize>,
    shutdown: watch::Receiver<bool>,
) {
    let mut left = limit.unwrap_or(usize::MAX);
    let stop = stopped(shutdown);
    tokio::pin!(stop);
    while left > 0 {
        tokio::select! {
            next = subscriber.next(|event| filter.view(event)) => {
                let text = match next {
                    Next::Event(json) => {
                        left -= 1;
                        json
                    }
                    Next::Gap(skipped) => gap(skipped),
                    Next::Closed => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            () = &mut stop => break,
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
