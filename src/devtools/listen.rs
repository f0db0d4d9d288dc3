//! The accept loop: HTTP/1.1 connections served by hyper, with the
//! timeouts and the connection limit a hostile peer makes necessary.
//!
//! - Header timeout: a new connection must send a complete request head
//!   within it (a client dripping its headers is closed at the deadline);
//!   between requests it counts from the first byte of the next head.
//! - Idle timeout: a keep-alive connection with no request for that long
//!   is closed. Nothing times out while a request is being answered, so
//!   server-sent event streams and websockets stay open as long as their
//!   clients want.
//! - Body timeout: a request body must arrive whole within it; after that
//!   the handler reads an error (and answers 4xx).
//! - Connection limit: at the limit, a new connection takes the place of
//!   the connection that has waited longest without a request in
//!   progress (a slow or idle client); when every connection is busy, the
//!   new one is answered 503 and closed at once. The limit is also kept
//!   below the process's open-file limit (a few descriptors kept for the
//!   store), and lowered when accepting fails for want of descriptors, so
//!   slow clients can never keep a legitimate one out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use super::error::{ServerError, ServerErrorKind};
use super::http::SHUTDOWN_GRACE;
use super::server::ObservationServerBuilder;

/// Default time to send a request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a keep-alive connection may wait for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default connection limit.
const MAX_CONNECTIONS: usize = 1024;
/// Open-file descriptors kept free for the store and the runtime.
const SPARE_FILES: u64 = 64;
/// How long the connection limit stays lowered after accepting ran out of
/// descriptors, in milliseconds.
const LOWERED_FOR: Millis = 10_000;
/// How long accepting pauses when the process is out of descriptors and no
/// connection can be closed.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);

/// Timeouts and the connection limit (the builder's defaults are in
/// [`ObservationServerBuilder::with_header_timeout`] and its siblings).
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    header_timeout: Duration,
    idle_timeout: Duration,
    body_timeout: Duration,
    max_connections: usize,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            header_timeout: HEADER_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

impl ObservationServerBuilder {
    /// How long a client has to send a request's head (default 10 s): from
    /// connecting for its first request, from the first byte of the head
    /// for the next ones. A client still sending its head then is
    /// disconnected, so clients that drip their headers cannot hold
    /// connections. Zero is taken as one millisecond.
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.access.transport.header_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a keep-alive connection may wait for its next request
    /// (default 60 s) before it is closed. Streams (`/stream`, `/ws`) are
    /// requests in progress: they are never cut by it. Zero is taken as
    /// one millisecond.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.access.transport.idle_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a client has to send a request's body once its head is in
    /// (default 60 s); a body still arriving then is cut, and the request
    /// refused. Zero is taken as one millisecond.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.access.transport.body_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The most connections open at once (default 1024, streams and
    /// websockets included; also kept below the process's open-file limit).
    /// At the limit a new connection replaces the one that has waited
    /// longest without a request in progress; when all are busy it is
    /// answered 503 and closed at once. Zero is taken as one.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.access.transport.max_connections = max.max(1);
        self
    }
}

/// Serves `router` on `listener` until `shutdown` is set; then stops
/// accepting (the port is freed), lets open requests finish and returns
/// once every connection is closed, or after [`SHUTDOWN_GRACE`].
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    transport: Transport,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ServerError> {
    let listener = TcpListener::from_std(listener)
        .map_err(|e| ServerError::new(ServerErrorKind::Bind, e.to_string()))?;
    let table = Arc::new(Table::new(ceiling(transport.max_connections)));
    let transport = Arc::new(transport);
    let mut stop = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let Some(conn) = table.admit() else {
                    turn_away(&stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let io = Tracked {
                    stream,
                    conn: Arc::clone(&conn),
                    table: Arc::clone(&table),
                };
                tokio::spawn(connection(
                    io,
                    conn,
                    router.clone(),
                    Arc::clone(&transport),
                    shutdown.clone(),
                ));
            }
            Err(e) if is_connection_error(&e) => {}
            // Out of descriptors (or memory): make room, then try again.
            Err(_) => {
                let freed = table.freed.notified();
                if table.shed() {
                    let _ = tokio::time::timeout(ACCEPT_PAUSE, freed).await;
                } else {
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                }
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, table.empty()).await;
    Ok(())
}

/// The connection limit, kept [`SPARE_FILES`] below the open-file limit.
fn ceiling(max_connections: usize) -> usize {
    #[cfg(unix)]
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        if soft != rlimit::INFINITY {
            let room = usize::try_from(soft.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
            return max_connections.min(room.max(1));
        }
    }
    max_connections
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::WouldBlock
    )
}

/// A connection over the limit when every other one is busy: a 503 if the
/// socket takes it at once, then closed.
fn turn_away(stream: &TcpStream) {
    const BODY: &str = "{\"detail\":\"too many connections are open; try again shortly\"}";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Milliseconds since the table was made.
type Millis = u64;

/// What a connection is doing, as its watchdog and the limit see it.
struct Conn {
    id: u64,
    /// Requests being answered (their response not yet sent whole).
    busy: AtomicUsize,
    /// When it last started waiting for a request (accepted, or its last
    /// response sent).
    waiting_since: AtomicU64,
    /// 1 + when the first byte of the next head arrived; 0: none yet.
    head_since: AtomicU64,
    /// Whether a request was received on it already.
    served: AtomicBool,
    /// Served out by hyper but still open: a websocket.
    upgraded: AtomicBool,
    /// Chosen to make room; `close` has been notified.
    evicted: AtomicBool,
    close: Notify,
}

impl Conn {
    /// When it started waiting, if it has no request in progress.
    fn waiting(&self) -> Option<Millis> {
        if self.busy.load(Ordering::Acquire) > 0 || self.upgraded.load(Ordering::Acquire) {
            return None;
        }
        Some(self.waiting_since.load(Ordering::Acquire))
    }
}

/// The open connections.
struct Table {
    started: Instant,
    inner: Mutex<Inner>,
    /// Notified whenever a connection closes.
    freed: Notify,
}

struct Inner {
    next: u64,
    open: HashMap<u64, Arc<Conn>>,
    /// Of `open`, those evicted and not yet closed.
    evicted: usize,
    /// The limit in force: `configured`, or lower for a while after
    /// accepting ran out of descriptors.
    ceiling: usize,
    configured: usize,
    /// When the limit was last lowered.
    lowered_at: Option<Millis>,
}

impl Table {
    fn new(ceiling: usize) -> Self {
        Table {
            started: Instant::now(),
            inner: Mutex::new(Inner {
                next: 0,
                open: HashMap::new(),
                evicted: 0,
                ceiling,
                configured: ceiling,
                lowered_at: None,
            }),
            freed: Notify::new(),
        }
    }

    fn now(&self) -> Millis {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, making room at the limit; `None` when
    /// every open connection is busy.
    fn admit(&self) -> Option<Arc<Conn>> {
        let now = self.now();
        let mut inner = self.lock();
        // A lowered limit is tried again after a while: descriptors the
        // rest of the process held may have been given back.
        if inner
            .lowered_at
            .is_some_and(|at| now.saturating_sub(at) > LOWERED_FOR)
        {
            inner.ceiling = inner.configured;
            inner.lowered_at = None;
        }
        if inner.open.len() - inner.evicted >= inner.ceiling && !inner.evict_one() {
            return None;
        }
        inner.next += 1;
        let conn = Arc::new(Conn {
            id: inner.next,
            busy: AtomicUsize::new(0),
            waiting_since: AtomicU64::new(now),
            head_since: AtomicU64::new(0),
            served: AtomicBool::new(false),
            upgraded: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        });
        inner.open.insert(conn.id, Arc::clone(&conn));
        Some(conn)
    }

    /// Accepting failed for want of resources: lowers the limit below what
    /// is open now and closes waiting connections down to it. Returns
    /// whether any was closed.
    fn shed(&self) -> bool {
        let now = self.now();
        let mut inner = self.lock();
        inner.lowered_at = Some(now);
        let live = inner.open.len() - inner.evicted;
        let spare = usize::try_from(SPARE_FILES).unwrap_or(64) / 2;
        inner.ceiling = inner.ceiling.min(live.saturating_sub(spare)).max(1);
        let mut any = false;
        while inner.open.len() - inner.evicted > inner.ceiling && inner.evict_one() {
            any = true;
        }
        // Nothing over the limit, yet no descriptor: free one anyway.
        any || inner.evict_one()
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(conn) = inner.open.remove(&id) {
            if conn.evicted.load(Ordering::Acquire) {
                inner.evicted -= 1;
            }
        }
        drop(inner);
        self.freed.notify_waiters();
    }

    /// Resolves once no connection is open.
    async fn empty(&self) {
        loop {
            let freed = self.freed.notified();
            if self.lock().open.is_empty() {
                return;
            }
            freed.await;
        }
    }
}

impl Inner {
    /// Closes the connection that has waited longest without a request in
    /// progress; false when every connection is busy.
    fn evict_one(&mut self) -> bool {
        let oldest = self
            .open
            .values()
            .filter(|conn| !conn.evicted.load(Ordering::Acquire))
            .filter_map(|conn| conn.waiting().map(|since| (since, conn)))
            .min_by_key(|(since, conn)| (*since, conn.id))
            .map(|(_, conn)| Arc::clone(conn));
        match oldest {
            Some(conn) => {
                conn.evicted.store(true, Ordering::Release);
                conn.close.notify_one();
                self.evicted += 1;
                true
            }
            None => false,
        }
    }
}

/// The socket, telling its connection when a request head starts to
/// arrive, and leaving the table when closed (after a websocket upgrade
/// too: hyper hands this same value over).
struct Tracked {
    stream: TcpStream,
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.table.remove(self.conn.id);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before
            && this.conn.busy.load(Ordering::Acquire) == 0
            && this.conn.head_since.load(Ordering::Acquire) == 0
        {
            this.conn
                .head_since
                .store(this.table.now() + 1, Ordering::Release);
        }
        read
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves one connection until it ends, times out, is evicted, or the
/// server shuts down (then open requests finish, for at most
/// [`SHUTDOWN_GRACE`]).
async fn connection(
    io: Tracked,
    conn: Arc<Conn>,
    router: Router,
    transport: Arc<Transport>,
    mut shutdown: watch::Receiver<bool>,
) {
    let table = Arc::clone(&io.table);
    let service = {
        let conn = Arc::clone(&conn);
        let table = Arc::clone(&table);
        let body_timeout = transport.body_timeout;
        let router = TowerToHyperService::new(router);
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let request = request.map(|body| timed(body, body_timeout));
            let busy = Busy::start(Arc::clone(&conn), Arc::clone(&table));
            let answer = hyper::service::Service::call(&router, request);
            async move {
                let response = answer.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Body::new(Answer { body, _busy: busy })),
                )
            }
        })
    };
    let served = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(served);
    let watchdog = watchdog(&conn, &table, &transport);
    tokio::pin!(watchdog);
    tokio::select! {
        _ = served.as_mut() => return conn.upgraded.store(true, Ordering::Release),
        () = watchdog.as_mut() => return,
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    served.as_mut().graceful_shutdown();
    tokio::select! {
        _ = served => {}
        () = watchdog => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// Resolves when the connection must close: evicted, its head late, or
/// idle too long.
async fn watchdog(conn: &Conn, table: &Table, transport: &Transport) {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let (header, idle) = (ms(transport.header_timeout), ms(transport.idle_timeout));
    loop {
        if conn.evicted.load(Ordering::Acquire) {
            return;
        }
        let now = table.now();
        let deadline = conn.waiting().map(|since| {
            let head = conn.head_since.load(Ordering::Acquire);
            if !conn.served.load(Ordering::Acquire) {
                since.saturating_add(header)
            } else if head > 0 {
                (head - 1).saturating_add(header)
            } else {
                since.saturating_add(idle)
            }
        });
        // Looked at again at least once per timeout: meanwhile a request
        // may come and go (the connection is then idle) or a head start to
        // arrive, and neither deadline may be missed.
        let wait = match deadline {
            Some(deadline) if deadline <= now => return,
            Some(deadline) => (deadline - now).min(header).min(idle),
            None => header.min(idle),
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(wait)) => {}
            () = conn.close.notified() => {}
        }
    }
}

/// A request being answered: the connection is busy until its response
/// has been sent (or dropped).
struct Busy {
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl Busy {
    fn start(conn: Arc<Conn>, table: Arc<Table>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.served.store(true, Ordering::Release);
        conn.head_since.store(0, Ordering::Release);
        Busy { conn, table }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .waiting_since
            .store(self.table.now(), Ordering::Release);
        self.conn.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection busy until it is done.
struct Answer {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Answer {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The request body, failing once `timeout` has passed without its end.
fn timed(body: Incoming, timeout: Duration) -> Body {
    if body.is_end_stream() {
        return Body::new(body);
    }
    Body::new(Timed {
        body,
        timeout,
        deadline: Box::pin(tokio::time::sleep(timeout)),
    })
}

struct Timed {
    body: Incoming,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

/// A request body that did not arrive in time.
#[derive(Debug)]
struct BodyTimeout(Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body did not arrive whole within this server's body timeout of {:?}; send it \
             faster or in smaller batches",
            self.0
        )
    }
}

impl std::error::Error for BodyTimeout {}

impl HttpBody for Timed {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
