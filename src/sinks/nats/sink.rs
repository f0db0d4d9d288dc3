//! The sink: a background hook that publishes each event to JetStream, with
//! its publish acks awaited concurrently and failed publishes retried.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, Context};
use async_nats::Subject;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, Notify};

use super::{
    backoff, bind_stream, check_name, check_prefix, connect, subject_for, NatsError, NatsErrorKind,
    DEFAULT_DUPLICATE_WINDOW, DEFAULT_PREFIX, DEFAULT_STREAM,
};
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
use crate::event::Event;
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::text::SharedStr;

/// Publishes awaiting their ack at once, by default.
const DEFAULT_WINDOW: usize = 1024;
/// How long dropping the guard waits for the last acks, by default.
const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// At most one failure report (a hook error) per interval.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Builds a [`NatsSink`]; see [`NatsSink::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{Delivery, NatsSink, Overflow};
///
/// let builder = NatsSink::builder("nats://127.0.0.1:4222")
///     .with_prefix("acme.events")
///     .with_stream("ACME_EVENTS")
///     .with_patterns(["model.*", "tool.*"])
///     .with_delivery(Delivery::background(100_000, Overflow::Block))
///     .with_duplicate_window(Duration::from_secs(600))
///     .with_window(4096)
///     .with_close_timeout(Duration::from_secs(10));
/// assert!(format!("{builder:?}").contains("ACME_EVENTS"));
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct NatsSinkBuilder {
    url: String,
    prefix: String,
    stream: String,
    patterns: Patterns,
    delivery: Delivery,
    duplicate_window: Duration,
    window: usize,
    close_timeout: Duration,
}

impl NatsSinkBuilder {
    /// The subject prefix (default `events`): an event of type `t` goes to
    /// `<prefix>.t` (see [`NatsSink::subject`]).
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222").with_prefix("acme.events");
    /// assert!(format!("{b:?}").contains("acme.events"));
    /// ```
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The JetStream stream (default `EVENTS`). [`build`](Self::build)
    /// creates it, taking `<prefix>.>`, or binds it if it exists.
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222").with_stream("AGENT_EVENTS");
    /// assert!(format!("{b:?}").contains("AGENT_EVENTS"));
    /// ```
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// The event types the sink publishes (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes; a bad pattern is reported by
    /// [`NatsSink::register`].
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222").with_patterns("action.*");
    /// assert!(format!("{b:?}").contains(r#"List(["action.*"])"#));
    /// ```
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// How [`register`](NatsSink::register) delivers events to the sink.
    /// Default: `Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest)`,
    /// a queue that never makes the emitter wait; while the server is
    /// unreachable and the queue full, new events are dropped and counted
    /// (in [`EventCenter::stats`]). Choose [`Overflow::Block`] to lose
    /// nothing and let the emitter wait instead. [`Delivery::Inline`] would
    /// wait for the network on the emitting thread and is refused by
    /// [`build`](Self::build).
    ///
    /// ```
    /// use event_center::{Delivery, NatsSink, Overflow};
    /// let b = NatsSink::builder("nats://127.0.0.1:4222")
    ///     .with_delivery(Delivery::background(1000, Overflow::Block));
    /// assert!(format!("{b:?}").contains("overflow: Block"));
    /// ```
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// The duplicate window of a stream the sink creates (default 2
    /// minutes, the server's): a publish whose event id the stream stored
    /// within this window is acknowledged as a duplicate and not stored
    /// again, which makes retries safe. An existing stream keeps its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222")
    ///     .with_duplicate_window(Duration::from_secs(600));
    /// assert!(format!("{b:?}").contains("600s"));
    /// ```
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// How many publishes may await their ack at once (default 1024; 0 is
    /// taken as 1). Events are published back to back and their acks
    /// awaited together, so a round trip is paid per window, not per event.
    /// When the window is full (the server is slow or down) the hook waits,
    /// and the center's queue in front of it takes the events.
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222").with_window(64);
    /// assert!(format!("{b:?}").contains("window: 64"));
    /// ```
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self
    }

    /// How long dropping the [`NatsGuard`] waits for the center's queue and
    /// the last acks (default 5 s); what is left then counts as lost.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222")
    ///     .with_close_timeout(Duration::from_secs(1));
    /// assert!(format!("{b:?}").contains("close_timeout: 1s"));
    /// ```
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Connects to the server, creates or binds the stream, and starts the
    /// sink's thread (a single-threaded tokio runtime of its own, so this
    /// works with or without a runtime around it). Blocks until connected:
    /// at most a few seconds when nothing answers.
    ///
    /// # Errors
    ///
    /// A [`NatsError`]: an invalid prefix, stream name or delivery
    /// ([`NatsErrorKind::InvalidOption`]), no server at the URL
    /// ([`NatsErrorKind::Connect`]), a stream that cannot be created or
    /// takes other subjects ([`NatsErrorKind::Stream`]).
    ///
    /// ```
    /// use event_center::{NatsErrorKind, NatsSink};
    ///
    /// let err = NatsSink::builder("nats://127.0.0.1:9").build().unwrap_err(); // nothing there
    /// assert_eq!(err.kind(), NatsErrorKind::Connect);
    /// assert!(err.to_string().contains("127.0.0.1:9"));
    /// ```
    pub fn build(self) -> Result<NatsSink, NatsError> {
        if self.delivery == Delivery::Inline {
            return Err(NatsError::new(
                NatsErrorKind::InvalidOption,
                "Delivery::Inline would wait for the network on the emitting thread: \
                 use Delivery::background",
            ));
        }
        check_prefix(&self.prefix)?;
        check_name("stream name", &self.stream)?;
        let (tx, rx) = mpsc::channel(self.window);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            settled: Condvar::new(),
            wake: Notify::new(),
            thread: Mutex::new(None),
            prefix: self.prefix.clone(),
        });
        let handle = start(&self, shared.clone(), rx)?;
        *shared.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(NatsSink {
            shared,
            tx,
            url: self.url,
            stream: self.stream,
            patterns: self.patterns,
            delivery: self.delivery,
            close_timeout: self.close_timeout,
        })
    }
}

/// Starts the sink's thread and waits until it is connected and the stream
/// is bound (or says why not).
fn start(
    config: &NatsSinkBuilder,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Outgoing>,
) -> Result<JoinHandle<()>, NatsError> {
    let unavailable =
        |e: &dyn fmt::Display| NatsError::new(NatsErrorKind::ThreadUnavailable, e.to_string());
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let (url, stream, prefix) = (
        config.url.clone(),
        config.stream.clone(),
        config.prefix.clone(),
    );
    let (duplicate_window, window, close_timeout) =
        (config.duplicate_window, config.window, config.close_timeout);
    let handle = std::thread::Builder::new()
        .name("event-center-nats".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(unavailable(&e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let opened = async {
                    let client = connect(&url, "event-center sink").await?;
                    let js = jetstream::new(client);
                    bind_stream(&js, &stream, &prefix, duplicate_window).await?;
                    Ok::<_, NatsError>(js)
                };
                match opened.await {
                    Ok(js) => {
                        let _ = ready_tx.send(Ok(()));
                        let publisher = Publisher {
                            js,
                            shared,
                            window,
                            close_timeout,
                        };
                        publisher.run(rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| unavailable(&e))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => {
            let _ = handle.join();
            Err(e)
        }
        Err(_) => Err(unavailable(&"the thread ended before connecting")),
    }
}

/// A sink's numbers. Every event the hook took ends as published,
/// duplicate or lost and is pending until then:
/// `accepted == published + duplicates + lost + pending`.
///
/// ```
/// let stats = event_center::NatsSinkStats::default();
/// assert_eq!(stats.accepted, stats.published + stats.duplicates + stats.lost + stats.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatsSinkStats {
    /// Events the hook took.
    pub accepted: u64,
    /// Events the stream stored (their publish was acknowledged).
    pub published: u64,
    /// Events the stream acknowledged as duplicates: their id was stored
    /// already (a re-published event, or a retry of a publish whose ack was
    /// lost), so they were not stored again.
    pub duplicates: u64,
    /// Events not published: the sink was shut down first, or the server
    /// refused them for good (larger than its `max_payload`).
    pub lost: u64,
    /// Events published or queued and not yet acknowledged.
    pub pending: u64,
    /// Failed publish attempts that were retried (the events kept).
    pub retries: u64,
    /// The last failure: the subject and the error.
    pub last_error: Option<String>,
}

/// One event on its way: its subject and the message (payload and
/// `Nats-Msg-Id` header), kept for retries.
struct Outgoing {
    subject: Subject,
    publish: PublishMessage,
}

/// How an event's publication ended.
enum Settled {
    Published,
    Duplicate,
    Lost,
}

/// What the sink, its guard and its thread share.
struct Shared {
    state: Mutex<State>,
    /// Wakes `flush` and `shutdown` callers.
    settled: Condvar,
    /// Wakes the thread when a shutdown starts.
    wake: Notify,
    thread: Mutex<Option<JoinHandle<()>>>,
    prefix: String,
}

#[derive(Default)]
struct State {
    stats: NatsSinkStats,
    /// Set by shutdown: its deadline.
    closing: Option<Instant>,
    /// The thread has ended.
    stopped: bool,
    /// Failed attempts not yet reported.
    unreported: u64,
    last_report: Option<Instant>,
}

impl State {
    fn stats(&self) -> NatsSinkStats {
        let mut stats = self.stats.clone();
        stats.pending = stats
            .accepted
            .saturating_sub(stats.published + stats.duplicates + stats.lost);
        stats
    }

    /// The failures since the last report, as the hook's error, at most
    /// once per [`REPORT_INTERVAL`].
    fn take_report(&mut self) -> Option<NatsError> {
        if self.unreported == 0
            || self
                .last_report
                .is_some_and(|at| at.elapsed() < REPORT_INTERVAL)
        {
            return None;
        }
        self.last_report = Some(Instant::now());
        let failed = std::mem::take(&mut self.unreported);
        Some(NatsError::new(
            NatsErrorKind::Publish,
            format!(
                "{failed} failed attempt(s) since the last report ({} retried and {} events \
                 lost so far); the last: {}",
                self.stats.retries,
                self.stats.lost,
                self.stats.last_error.as_deref().unwrap_or("unknown"),
            ),
        ))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settle(&self, settled: Settled) {
        let mut s = self.lock();
        match settled {
            Settled::Published => s.stats.published += 1,
            Settled::Duplicate => s.stats.duplicates += 1,
            Settled::Lost => s.stats.lost += 1,
        }
        drop(s);
        self.settled.notify_all();
    }

    fn fail(&self, subject: &Subject, error: &dyn fmt::Display, retried: bool) {
        let mut s = self.lock();
        s.unreported += 1;
        if retried {
            s.stats.retries += 1;
        }
        s.stats.last_error = Some(format!("publish to `{subject}`: {error}"));
    }

    fn begin_close(&self, timeout: Duration) -> Instant {
        let mut s = self.lock();
        *s.closing.get_or_insert_with(|| Instant::now() + timeout)
    }

    /// Waits until nothing is pending, the thread ended or `deadline`.
    fn wait_settled(&self, deadline: Instant) -> NatsSinkStats {
        let mut s = self.lock();
        loop {
            let stats = s.stats();
            let now = Instant::now();
            if stats.pending == 0 || s.stopped || now >= deadline {
                return stats;
            }
            s = self
                .settled
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The sink's thread: publishes what the hook hands it and settles each
/// event as its ack comes.
struct Publisher {
    js: Context,
    shared: Arc<Shared>,
    window: usize,
    close_timeout: Duration,
}

impl Publisher {
    async fn run(self, mut rx: mpsc::Receiver<Outgoing>) {
        let mut inflight = FuturesUnordered::new();
        loop {
            let closing = self.shared.lock().closing;
            if closing.is_some() {
                // Take what the hook queued before the shutdown; no more.
                while inflight.len() < self.window {
                    match rx.try_recv() {
                        Ok(outgoing) => inflight.push(self.publish(outgoing)),
                        Err(_) => break,
                    }
                }
                if inflight.is_empty() && rx.is_empty() {
                    break;
                }
            }
            let deadline = tokio::time::Instant::from_std(closing.unwrap_or_else(Instant::now));
            tokio::select! {
                biased;
                Some(settled) = inflight.next(), if !inflight.is_empty() => {
                    self.shared.settle(settled);
                }
                outgoing = rx.recv(), if closing.is_none() && inflight.len() < self.window => {
                    match outgoing {
                        Some(outgoing) => inflight.push(self.publish(outgoing)),
                        // Every sink handle is gone: close as a guard would.
                        None => {
                            self.shared.begin_close(self.close_timeout);
                        }
                    }
                }
                () = self.shared.wake.notified(), if closing.is_none() => {}
                () = tokio::time::sleep_until(deadline), if closing.is_some() => break,
            }
        }
        // The deadline came, or everything settled: what is left is lost.
        rx.close();
        let mut left = inflight.len() as u64;
        while rx.try_recv().is_ok() {
            left += 1;
        }
        let mut s = self.shared.lock();
        s.stats.lost += left;
        s.stopped = true;
        drop(s);
        self.shared.settled.notify_all();
    }

    /// Publishes one event until the stream acknowledges it, retrying with
    /// a backoff; the same `Nats-Msg-Id` makes a retry of a publish that
    /// was in fact stored a duplicate, not a second copy.
    fn publish(&self, outgoing: Outgoing) -> impl Future<Output = Settled> {
        let js = self.js.clone();
        let shared = self.shared.clone();
        async move {
            let mut attempt = 0;
            loop {
                let sent = js
                    .send_publish(outgoing.subject.clone(), outgoing.publish.clone())
                    .await;
                let acked = match sent {
                    Ok(ack) => ack.await,
                    Err(e) => Err(e),
                };
                match acked {
                    Ok(ack) if ack.duplicate => return Settled::Duplicate,
                    Ok(_) => return Settled::Published,
                    Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                        shared.fail(&outgoing.subject, &e, false);
                        return Settled::Lost;
                    }
                    Err(e) => shared.fail(&outgoing.subject, &e, true),
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// An [`EventCenter`] hook that publishes each event to a NATS JetStream
/// stream: its Agently JSON to `<prefix>.<event type>` (see
/// [`subject`](NatsSink::subject)), with its `event_id` as the
/// `Nats-Msg-Id` header, so the stream stores each event once however often
/// it is published within its duplicate window.
///
/// [`register`](NatsSink::register) registers it on a background queue, so
/// the emitter only queues the event. The hook's worker serializes it and
/// hands it to the sink's thread, which publishes back to back and awaits
/// the acks together (up to [`with_window`](NatsSinkBuilder::with_window)
/// at once). A publish that fails (no ack in time, the server restarting)
/// is retried with a backoff until it is acknowledged or the sink shuts
/// down; a retry of a publish that was stored after all is acknowledged as
/// a duplicate. Retried events may reach the stream after later ones:
/// order by `seq` or `timestamp`, not by stream position.
///
/// Failures never reach the emitter: they are counted in
/// [`NatsSinkStats`], and the hook returns them (at most once a second,
/// summed) from its next call, so the center counts them and reports
/// `event_center.hook_failed`. Keep the returned [`NatsGuard`] alive:
/// dropping it drains the queue and waits for the last acks.
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let nats = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
/// center.emitter("Planner").emit("action.loop_started").send();
/// let stats = nats.flush(Duration::from_secs(5));
/// assert_eq!((stats.published, stats.pending), (2, 0)); // and its tool.loop_started twin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct NatsSink {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Outgoing>,
    url: String,
    stream: String,
    patterns: Patterns,
    delivery: Delivery,
    close_timeout: Duration,
}

impl fmt::Debug for NatsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSink")
            .field("url", &self.url)
            .field("prefix", &self.shared.prefix)
            .field("stream", &self.stream)
            .field("patterns", &self.patterns)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl NatsSink {
    /// A builder for a sink publishing to the NATS server at `url`
    /// (`nats://host:4222`, or several, comma-separated).
    ///
    /// ```
    /// let b = event_center::NatsSink::builder("nats://127.0.0.1:4222");
    /// assert!(format!("{b:?}").contains("prefix: \"events\""));
    /// ```
    pub fn builder(url: impl Into<String>) -> NatsSinkBuilder {
        NatsSinkBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            stream: DEFAULT_STREAM.to_owned(),
            patterns: Patterns::All,
            delivery: Delivery::background(DEFAULT_CAPACITY, Overflow::DropNewest),
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            window: DEFAULT_WINDOW,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }

    /// Registers the sink on `center` under `name`, with its patterns and
    /// its queued [`Delivery`], and returns the guard that drains and shuts
    /// it down when dropped.
    ///
    /// # Errors
    ///
    /// The center's [`RegisterError`]: the name is taken or blank, or a
    /// pattern does not compile.
    ///
    /// ```no_run
    /// use event_center::{EventCenter, NatsSink, RegisterErrorKind};
    ///
    /// let center = EventCenter::new();
    /// let sink = NatsSink::builder("nats://127.0.0.1:4222").with_patterns("model.{a,b}").build()?;
    /// let err = sink.register(&center, "nats").unwrap_err();
    /// assert!(matches!(err.kind(), RegisterErrorKind::InvalidPattern(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: impl Into<SharedStr>,
    ) -> Result<NatsGuard, RegisterError> {
        let name = name.into();
        let options = HookOptions::new().with_delivery(self.delivery.clone());
        center.register_hook_with(name.clone(), self.patterns.clone(), options, self.clone())?;
        Ok(NatsGuard {
            center: center.clone(),
            name,
            sink: self,
            closed: false,
        })
    }

    /// The subject an event of this type is published to: the prefix, then
    /// one token per dot-separated part of the type. Parts NATS can carry
    /// are kept as they are; a byte it cannot (whitespace, `*`, `>`,
    /// non-ASCII) and `%` become `%XX`, and an empty part becomes `%`, so
    /// every type has a valid subject of its own and the type can be read
    /// back from it.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.subject("model.completed"), "events.model.completed");
    /// assert_eq!(sink.subject("my tool.*"), "events.my%20tool.%2A");
    /// assert_eq!(sink.subject("a..b"), "events.a.%.b");
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn subject(&self, event_type: &str) -> String {
        subject_for(&self.shared.prefix, event_type)
    }

    /// The sink's numbers: accepted, published, duplicates, lost, pending,
    /// retries and the last failure.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.stats().accepted, 0);
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn stats(&self) -> NatsSinkStats {
        self.shared.lock().stats()
    }

    /// Waits until every event the hook took is acknowledged (or lost), or
    /// until `timeout`; the answer's `pending` is what was left (still
    /// retried). Events still in the center's queue are not waited for:
    /// [`NatsGuard::flush`] does both.
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// assert_eq!(sink.flush(std::time::Duration::from_secs(1)).pending, 0);
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> NatsSinkStats {
        self.shared.wait_settled(Instant::now() + timeout)
    }

    /// Stops taking events, waits up to `timeout` for the acks of those
    /// taken, and stops the sink's thread; what is left counts as lost, and
    /// so does any event offered afterwards (the hook then fails, so the
    /// center reports it).
    ///
    /// ```no_run
    /// let sink = event_center::NatsSink::builder("nats://127.0.0.1:4222").build()?;
    /// let stats = sink.shutdown(std::time::Duration::from_secs(1));
    /// assert_eq!((stats.pending, stats.lost), (0, 0));
    /// # Ok::<(), event_center::NatsError>(())
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> NatsSinkStats {
        self.shared.begin_close(timeout);
        self.shared.wake.notify_one();
        let handle = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.stats()
    }
}

impl Hook for NatsSink {
    /// Hands the event to the sink's thread (waiting while its window is
    /// full); returns the failures noted since the last report.
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        let report = {
            let mut s = self.shared.lock();
            s.stats.accepted += 1;
            if s.closing.is_some() {
                s.stats.lost += 1;
                return Err(NatsError::new(NatsErrorKind::Closed, "event dropped").into());
            }
            s.take_report()
        };
        let lost = |error: NatsError| {
            self.shared.settle(Settled::Lost);
            Err(error.into())
        };
        let payload = match serde_json::to_vec(&**event) {
            Ok(payload) => payload,
            Err(e) => {
                let why = format!("event {} cannot be serialized: {e}", event.event_id);
                return lost(NatsError::new(NatsErrorKind::Publish, why));
            }
        };
        let outgoing = Outgoing {
            subject: Subject::from(self.subject(&event.event_type)),
            publish: PublishMessage::build()
                .payload(payload.into())
                .message_id(event.event_id.to_string()),
        };
        if self.tx.blocking_send(outgoing).is_err() {
            return lost(NatsError::new(NatsErrorKind::Closed, "event dropped"));
        }
        report.map_or(Ok(()), |error| Err(error.into()))
    }
}

/// Returned by [`NatsSink::register`]: dropping it waits (up to the
/// builder's [close timeout](NatsSinkBuilder::with_close_timeout)) for the
/// center's queues and the last acks, unregisters the sink and stops its
/// thread. Hold it for as long as events should be published (`let _guard
/// = ...`, not `let _ = ...`, which drops it at once).
///
/// ```no_run
/// use std::time::Duration;
/// use event_center::{EventCenter, NatsSink};
///
/// let center = EventCenter::new();
/// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
/// center.emitter("Agent").emit("model.requested").send();
/// let stats = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((stats.published, stats.lost), (1, 0));
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard shuts the sink down at once: keep it alive"]
pub struct NatsGuard {
    center: EventCenter,
    name: SharedStr,
    sink: NatsSink,
    closed: bool,
}

impl fmt::Debug for NatsGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsGuard")
            .field("name", &self.name)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl NatsGuard {
    /// The registered sink.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.sink().subject("a.b"), "events.a.b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sink(&self) -> &NatsSink {
        &self.sink
    }

    /// The sink's numbers (see [`NatsSink::stats`]).
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.stats().lost, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> NatsSinkStats {
        self.sink.stats()
    }

    /// Drains the center's queues (so every event emitted before the call
    /// reaches the sink), then waits for the acks, all within `timeout`.
    /// `pending` counts what was left, in the center's queue or unacked.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let center = EventCenter::new();
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&center, "nats")?;
    /// center.emitter("A").emit("a.b").send();
    /// assert_eq!(guard.flush(std::time::Duration::from_secs(5)).published, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self, timeout: Duration) -> NatsSinkStats {
        let deadline = Instant::now() + timeout;
        let report = self.center.flush(timeout);
        let queued: u64 = report
            .hooks
            .iter()
            .filter(|h| h.name == *self.name && h.registered)
            .map(|h| h.pending)
            .sum();
        let mut stats = self.sink.shared.wait_settled(deadline);
        stats.pending += queued;
        stats
    }

    /// Drains the center's queue into the sink, unregisters it and shuts it
    /// down (see [`NatsSink::shutdown`]), all within `timeout`.
    ///
    /// ```no_run
    /// # use event_center::{EventCenter, NatsSink};
    /// let guard = NatsSink::builder("nats://127.0.0.1:4222").build()?.register(&EventCenter::new(), "nats")?;
    /// assert_eq!(guard.shutdown(std::time::Duration::from_secs(1)).accepted, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(mut self, timeout: Duration) -> NatsSinkStats {
        self.close(timeout)
    }

    fn close(&mut self, timeout: Duration) -> NatsSinkStats {
        self.closed = true;
        let deadline = Instant::now() + timeout;
        self.center.flush(timeout);
        self.center.unregister_hook(&self.name);
        self.sink
            .shutdown(deadline.saturating_duration_since(Instant::now()))
    }
}

impl Drop for NatsGuard {
    fn drop(&mut self) {
        if !self.closed {
            self.close(self.sink.close_timeout);
        }
    }
}
