//! The server: its builder, the read connections, and the handle that
//! stops it all (the storage thread is in `writer.rs`).

use std::future::Future;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::watch;

use crate::event::Event;
use crate::Redaction;

use super::budget::{Budget, Limits};
use super::error::{ServerError, ServerErrorKind};
use super::feed::Feed;
use super::guard::Access;
use super::http;
use super::ingest::parse_rust_events;
use super::store::{connect, db_path, ObservationStore, Retention};
use super::writer::Writer;

/// Agently DevTools' port.
const DEFAULT_PORT: u16 = 15596;
/// The default cap on a request body.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 8 << 20;
/// Read connections kept open between requests.
const IDLE_READERS: usize = 8;
/// Everything a request handler needs.
pub(crate) struct App {
    pub(crate) api_key: Option<String>,
    pub(crate) body_limit: usize,
    pub(crate) writer: Writer,
    pub(crate) readers: Arc<Readers>,
    /// Newly stored events, for the live streams.
    pub(crate) feed: Arc<Feed>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Secrets masked at ingest, before storing or streaming.
    pub(crate) redaction: Redaction,
    /// The browser origins and hosts answered.
    pub(crate) access: Access,
    /// The in-flight memory budget, drawn from the server's [`Limits`].
    pub(crate) budget: Budget,
}

/// Read-only connections, reused between requests; queries run on tokio's
/// blocking threads.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Runs `read` on a read connection off the async threads.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match idle {
                Some(conn) => conn,
                None => {
                    let conn = connect(&readers.path)?;
                    conn.execute_batch("PRAGMA query_only = 1;")?;
                    conn
                }
            };
            let result = read(&conn);
            if let Ok(mut idle) = readers.idle.lock() {
                if idle.len() < IDLE_READERS {
                    idle.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|e| ServerError::new(ServerErrorKind::Runtime, e.to_string()))?
    }
}

/// Where the store lives: a directory given, or a temporary one removed at
/// shutdown.
struct DataDir {
    path: PathBuf,
    temporary: bool,
}

impl DataDir {
    fn new(given: Option<PathBuf>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        match given {
            Some(path) => DataDir {
                path,
                temporary: false,
            },
            None => DataDir {
                path: std::env::temp_dir().join(format!(
                    "event-center-observations-{}-{}-{}",
                    std::process::id(),
                    crate::event::now_millis(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                )),
                temporary: true,
            },
        }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// An observation server: Agently DevTools' `/observation` HTTP API
/// (ingest, runs, run trees, events, flow definitions, server-sent events
/// and a websocket) over a SQLite store, and the viewer page at `/`.
///
/// Existing Agently clients (its `ObservationBridge`, this crate's
/// `DevtoolsForwarder`) work against it unchanged. Build one with
/// [`ObservationServer::builder`], then [`start`](ObservationServer::start)
/// it on threads of its own, or [`serve`](ObservationServer::serve) it in
/// your tokio runtime.
///
/// ```
/// use event_center::{Event, ObservationServer};
///
/// let dir = tempfile::tempdir().unwrap();
/// let server = ObservationServer::builder()
///     .with_port(0)
///     .with_data_dir(dir.path())
///     .build()
///     .unwrap()
///     .start()
///     .unwrap();
/// assert_eq!(server.ingest(&[Event::new("agent.started")]).unwrap(), 1);
/// println!("listening on {}", server.url());
/// server.shutdown();
/// ```
#[derive(Debug)]
pub struct ObservationServer {
    addr: SocketAddr,
    data_dir: Option<PathBuf>,
    api_key: Option<String>,
    retention: Retention,
    body_limit: usize,
    pub(crate) redaction: Redaction,
    pub(crate) access: Access,
    pub(crate) limits: Limits,
}

/// Configures an [`ObservationServer`]; see [`ObservationServer::builder`].
///
/// ```
/// use event_center::{ObservationServer, Retention};
///
/// let server = ObservationServer::builder()
///     .with_host("127.0.0.1")
///     .with_port(0)
///     .with_api_key("s3cret")
///     .with_retention(Retention::events(1_000_000))
///     .with_body_limit(4 << 20)
///     .build()
///     .unwrap();
/// assert_eq!(server.addr().port(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct ObservationServerBuilder {
    host: String,
    port: u16,
    data_dir: Option<PathBuf>,
    api_key: Option<String>,
    retention: Retention,
    body_limit: usize,
    pub(crate) redaction: Redaction,
    pub(crate) access: Access,
    pub(crate) limits: Limits,
}

impl ObservationServer {
    /// A builder with Agently DevTools' defaults: `127.0.0.1:15596`, no API
    /// key, an 8 MiB body limit, unlimited retention, and a temporary data
    /// directory removed at shutdown (give one to keep the events); and the
    /// safe ones for a server a browser can reach: secrets masked at ingest
    /// ([`with_redaction`](ObservationServerBuilder::with_redaction)), only this server's own
    /// `Host` names and browser origin answered
    /// ([`with_allowed_host`](ObservationServerBuilder::with_allowed_host),
    /// [`with_allowed_origin`](ObservationServerBuilder::with_allowed_origin)),
    /// 10 s to send a request's headers, 60 s for its body, 60 s idle
    /// between requests, at most 1,024 connections, 384 MiB for work in
    /// flight and 64 MiB for the live streams.
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().build().unwrap();
    /// assert_eq!(server.addr().to_string(), "127.0.0.1:15596");
    /// ```
    pub fn builder() -> ObservationServerBuilder {
        ObservationServerBuilder {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            data_dir: None,
            api_key: None,
            retention: Retention::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            redaction: Redaction::default(),
            access: Access::default(),
            limits: Limits::default(),
        }
    }

    /// The address it will listen on (port 0: any free port, known once
    /// started from [`ServerHandle::local_addr`]).
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(8080).build().unwrap();
    /// assert_eq!(server.addr().port(), 8080);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts the server on a tokio runtime of its own (two worker threads)
    /// and a storage thread; returns once it listens. Usable without a
    /// runtime (tests, a command-line tool). Listening on a non-loopback
    /// address without an API key prints a warning to standard error.
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap();
    /// let handle = server.start().unwrap();
    /// assert!(handle.url().starts_with("http://127.0.0.1:"));
    /// drop(handle); // stops it
    /// ```
    pub fn start(self) -> Result<ServerHandle, ServerError> {
        let listener = self.bind()?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| ServerError::new(ServerErrorKind::Bind, format!("{}: {e}", self.addr)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("observation-server")
            .enable_all()
            .build()
            .map_err(|e| ServerError::new(ServerErrorKind::Runtime, e.to_string()))?;
        let parts = self.prepare()?;
        let writer = parts.app.writer.clone();
        let redaction = parts.app.redaction.clone();
        let (done_tx, done) = mpsc::channel();
        let app = parts.app;
        let shutdown = parts.shutdown.subscribe();
        runtime.spawn(async move {
            let _ = done_tx.send(http::run(listener, app, shutdown).await);
        });
        Ok(ServerHandle {
            local_addr,
            writer,
            redaction,
            shutdown: parts.shutdown,
            done,
            runtime: Some(runtime),
            storage: Some(parts.storage),
            _data_dir: parts.data_dir,
        })
    }

    /// Serves on the caller's tokio runtime until `shutdown` completes, then
    /// closes the streams, lets open requests finish and stops the storage
    /// thread.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread")]
    /// # async fn main() {
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap();
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let task = tokio::spawn(server.serve(async { let _ = stopped.await; }));
    /// stop.send(()).unwrap();
    /// task.await.unwrap().unwrap();
    /// # }
    /// ```
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let listener = self.bind()?;
        let parts = self.prepare()?;
        let writer = parts.app.writer.clone();
        let closing = parts.shutdown;
        let stopper = tokio::spawn(async move {
            shutdown.await;
            let _ = closing.send(true);
        });
        let watch = parts.app.shutdown.clone();
        let served = http::run(listener, parts.app, watch).await;
        stopper.abort();
        writer.stop();
        let storage = parts.storage;
        let _ = tokio::task::spawn_blocking(move || storage.join()).await;
        drop(parts.data_dir);
        served
    }

    fn bind(&self) -> Result<TcpListener, ServerError> {
        // Said before binding, so it is said even when binding then fails.
        if !self.addr.ip().is_loopback() && self.api_key.is_none() {
            eprintln!(
                "warning: the observation server is to listen on {} without an API key: anyone \
                 who can reach it can read and write events; give it an API key",
                self.addr
            );
        }
        let listener = TcpListener::bind(self.addr)
            .map_err(|e| ServerError::new(ServerErrorKind::Bind, format!("{}: {e}", self.addr)))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ServerError::new(ServerErrorKind::Bind, format!("{}: {e}", self.addr)))?;
        Ok(listener)
    }

    fn prepare(self) -> Result<Parts, ServerError> {
        let data_dir = DataDir::new(self.data_dir);
        let store = ObservationStore::open(&data_dir.path)?
            .with_retention(self.retention)
            .for_server()?;
        let feed = Arc::new(Feed::new(self.limits.stream_buffer));
        let (writer, storage) = Writer::spawn(store, db_path(&data_dir.path), Arc::clone(&feed))?;
        let (shutdown, watch) = watch::channel(false);
        let app = Arc::new(App {
            api_key: self.api_key,
            body_limit: self.body_limit,
            writer,
            readers: Arc::new(Readers {
                path: db_path(&data_dir.path),
                idle: Mutex::new(Vec::new()),
            }),
            feed,
            shutdown: watch,
            redaction: self.redaction,
            access: self.access,
            budget: Budget::new(&self.limits),
        });
        Ok(Parts {
            app,
            shutdown,
            storage,
            data_dir,
        })
    }
}

struct Parts {
    app: Arc<App>,
    shutdown: watch::Sender<bool>,
    storage: JoinHandle<()>,
    data_dir: DataDir,
}

impl ObservationServerBuilder {
    /// The host to listen on: an IP address or a name (default
    /// `"127.0.0.1"`). Anything but loopback should have an API key.
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_host("0.0.0.0").build().unwrap();
    /// assert!(server.addr().ip().is_unspecified());
    /// ```
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port (default 15596, Agently DevTools' own; 0 picks a free one).
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap();
    /// assert_eq!(server.addr().port(), 0);
    /// ```
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The directory of the SQLite store (created if missing); the events
    /// and flow definitions survive restarts on the same directory.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Requires this key on every request, as `Authorization: Bearer KEY`,
    /// `X-API-Key: KEY` or `?api_key=KEY` (others get 401), as Agently
    /// DevTools does.
    ///
    /// ```
    /// let built = event_center::ObservationServer::builder().with_api_key("k 1").build();
    /// assert!(built.unwrap_err().to_string().contains("API key"));
    /// ```
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// How much the store keeps (default: everything).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The largest request body accepted, in bytes (default 8 MiB); larger
    /// ones get 413.
    ///
    /// ```
    /// let built = event_center::ObservationServer::builder().with_body_limit(0).build();
    /// assert!(built.is_err());
    /// ```
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Checks the settings: the host must resolve, the API key must be
    /// non-empty printable text without spaces, the body limit above zero.
    ///
    /// ```
    /// let err = event_center::ObservationServer::builder().with_host("").build().unwrap_err();
    /// assert!(err.to_string().contains("host"));
    /// ```
    pub fn build(self) -> Result<ObservationServer, ServerError> {
        let invalid = |detail: String| ServerError::new(ServerErrorKind::InvalidConfig, detail);
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                invalid(format!(
                    "host `{}` is not an IP address or a name that resolves; use one such as \
                     127.0.0.1",
                    self.host
                ))
            })?;
        if let Some(key) = &self.api_key {
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    "the API key must be non-empty printable text without spaces (leave it \
                     unset for no key)"
                        .to_owned(),
                ));
            }
        }
        if self.body_limit == 0 {
            return Err(invalid(
                "the body limit must be above zero bytes".to_owned(),
            ));
        }
        Ok(ObservationServer {
            addr,
            data_dir: self.data_dir,
            api_key: self.api_key,
            retention: self.retention,
            body_limit: self.body_limit,
            redaction: self.redaction,
            access: self.access,
            limits: self.limits,
        })
    }
}

/// A started [`ObservationServer`]: its address, a direct ingest path, and
/// shutdown (also on drop).
///
/// ```
/// use event_center::{Event, ObservationServer, RunContext};
///
/// let server = ObservationServer::builder().with_port(0).build().unwrap().start().unwrap();
/// let run = RunContext::new("agent_execution");
/// let stored = server
///     .ingest(&[Event::new("agent.started").with_run(run.clone())])
///     .unwrap();
/// assert_eq!(stored, 1);
/// let url = format!("{}/observation/runs/{}", server.url(), run.run_id);
/// assert!(url.starts_with("http://127.0.0.1:"));
/// server.shutdown();
/// ```
pub struct ServerHandle {
    local_addr: SocketAddr,
    writer: Writer,
    redaction: Redaction,
    shutdown: watch::Sender<bool>,
    done: mpsc::Receiver<Result<(), ServerError>>,
    runtime: Option<tokio::runtime::Runtime>,
    storage: Option<JoinHandle<()>>,
    _data_dir: DataDir,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The address it listens on (with the port chosen when 0 was asked).
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap().start().unwrap();
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://` and the address: the base URL clients are given.
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap().start().unwrap();
    /// assert_eq!(server.url(), format!("http://{}", server.local_addr()));
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stores events through the same path as `POST /observation/ingest`
    /// (defaults filled, secrets masked as the server's
    /// [`with_redaction`](ObservationServerBuilder::with_redaction) says,
    /// duplicates skipped, runs updated, then published to the live
    /// streams) and returns how many were new, once committed.
    /// An invalid event (an empty `event_type`) fails the call and stores
    /// nothing. Blocks the calling thread until the batch is committed.
    ///
    /// ```
    /// use event_center::{Event, ObservationServer};
    /// let server = ObservationServer::builder().with_port(0).build().unwrap().start().unwrap();
    /// let event = Event::new("tool.called");
    /// assert_eq!(server.ingest(&[event.clone(), event]).unwrap(), 1);
    /// ```
    pub fn ingest(&self, events: &[Event]) -> Result<usize, ServerError> {
        self.writer
            .write_blocking(parse_rust_events(events, &self.redaction)?)
    }

    /// Stops listening, ends the streams, lets open requests finish (up to
    /// 5 s), stores what was already accepted, and stops the threads.
    ///
    /// ```
    /// let server = event_center::ObservationServer::builder().with_port(0).build().unwrap().start().unwrap();
    /// let addr = server.local_addr();
    /// server.shutdown();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// ```
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let _ = self.shutdown.send(true);
        let _ = self
            .done
            .recv_timeout(http::SHUTDOWN_GRACE + Duration::from_secs(1));
        runtime.shutdown_background();
        self.writer.stop();
        if let Some(storage) = self.storage.take() {
            let _ = storage.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
