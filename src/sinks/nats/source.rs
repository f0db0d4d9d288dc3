//! The source: a durable pull consumer that hands batches of events to a
//! callback (or a local center) and acks them only once they were taken.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, PullConsumer};
use async_nats::jetstream::{self, AckKind, Message};
use futures_util::{FutureExt, StreamExt};
use serde_json::json;

use super::{
    backoff, bind_stream, check_name, check_prefix, connect, subject_for, NatsError, NatsErrorKind,
    DEFAULT_DUPLICATE_WINDOW, DEFAULT_PREFIX, DEFAULT_STREAM,
};
use crate::center::EventCenter;
use crate::event::{Event, EventError, Level};
use crate::hook::BoxError;
use crate::pattern::{PatternSet, Patterns};

/// The most events handed over at once, by default.
const DEFAULT_MAX_BATCH: usize = 500;
/// How long a pull waits for a batch to fill, by default.
const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(100);
/// How long the server waits for an ack before it redelivers, by default.
const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);
/// The source of the source's reports.
const REPORT_SOURCE: &str = "NatsSource";
/// The event type of reports of messages that are not events.
const EVENTS_DROPPED: &str = "event_center.events_dropped";

/// Builds a [`NatsSource`]; see [`NatsSource::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::NatsSource;
///
/// let builder = NatsSource::builder("nats://127.0.0.1:4222", "viewer")
///     .with_prefix("acme.events")
///     .with_stream("ACME_EVENTS")
///     .with_patterns(["model.*", "tool.called"])
///     .with_batch(1000, Duration::from_millis(50))
///     .with_ack_wait(Duration::from_secs(60));
/// assert!(format!("{builder:?}").contains("viewer"));
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct NatsSourceBuilder {
    url: String,
    durable: String,
    prefix: String,
    stream: String,
    patterns: Patterns,
    max_batch: usize,
    max_wait: Duration,
    ack_wait: Duration,
    reports: Option<EventCenter>,
}

impl NatsSourceBuilder {
    /// The subject prefix the sink publishes under (default `events`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The JetStream stream (default `EVENTS`). [`build`](Self::build)
    /// creates it, taking `<prefix>.>`, if no sink did yet.
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }

    /// The event types to consume (default: every event), as a hook's
    /// patterns, matched against the type each event was published with
    /// (aliases are not applied here; a local center applies them to its
    /// own hooks). They become the consumer's subject filter where they
    /// can: one exact type its subject, `family.*` (or any pattern whose
    /// glob starts after a dot) `<prefix>.family.>`; several patterns with
    /// different filters, or a glob before the first dot, filter
    /// `<prefix>.>`. The patterns themselves then decide, so exactly the
    /// matching events are handed over; the others are acked and counted
    /// as `filtered`. An empty list is refused by [`build`](Self::build).
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// Hands over at most `max_events` at once, after waiting at most
    /// `max_wait` for a batch to fill (default: 500 events, 100 ms). A zero
    /// `max_events` is taken as 1. A stop asked for is noticed between
    /// batches, so within about `max_wait`.
    pub fn with_batch(mut self, max_events: usize, max_wait: Duration) -> Self {
        self.max_batch = max_events.max(1);
        self.max_wait = max_wait;
        self
    }

    /// How long the server waits for a batch's ack before it delivers the
    /// batch again (default 30 s). A source stopped between batches has
    /// acked all it took; one that crashed mid-batch gets that batch again
    /// this long after.
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    /// Where messages that are not events are reported, as
    /// `event_center.events_dropped` events (default: the center given to
    /// [`run_into`](NatsSource::run_into); none for
    /// [`run`](NatsSource::run)). They are counted in [`NatsSourceStats`]
    /// either way.
    pub fn with_reports(mut self, center: &EventCenter) -> Self {
        self.reports = Some(center.clone());
        self
    }

    /// Connects, creates or binds the stream, and creates the durable pull
    /// consumer (or binds it: the same name with the same options resumes
    /// where it stopped). Needs a tokio runtime.
    ///
    /// # Errors
    ///
    /// A [`NatsError`]: an invalid prefix, stream or durable name, pattern,
    /// or an empty pattern list ([`NatsErrorKind::InvalidOption`]), no
    /// server at the URL ([`NatsErrorKind::Connect`]), a stream that cannot
    /// be created or takes other subjects ([`NatsErrorKind::Stream`]), a
    /// consumer of that name with other options
    /// ([`NatsErrorKind::Consumer`]).
    ///
    /// ```
    /// use event_center::{NatsErrorKind, NatsSource};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let err = NatsSource::builder("nats://127.0.0.1:4222", "v")
    ///     .with_patterns(Vec::<String>::new())
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), NatsErrorKind::InvalidOption);
    /// let err = NatsSource::builder("nats://127.0.0.1:9", "v").build().await.unwrap_err();
    /// assert_eq!(err.kind(), NatsErrorKind::Connect);
    /// # });
    /// ```
    pub async fn build(self) -> Result<NatsSource, NatsError> {
        check_prefix(&self.prefix)?;
        check_name("stream name", &self.stream)?;
        check_name("durable consumer name", &self.durable)?;
        if self.patterns == Patterns::none() {
            return Err(NatsError::new(
                NatsErrorKind::InvalidOption,
                "an empty pattern list matches no event: give one or more patterns, or Patterns::All",
            ));
        }
        let patterns = PatternSet::new(self.patterns.clone())
            .map_err(|e| NatsError::new(NatsErrorKind::InvalidOption, e.to_string()))?;
        let filter_subject = filter_subject(&self.prefix, &self.patterns);
        let client = connect(&self.url, "event-center source").await?;
        let js = jetstream::new(client);
        let stream = bind_stream(&js, &self.stream, &self.prefix, DEFAULT_DUPLICATE_WINDOW).await?;
        let consumer_error = |why: String| {
            NatsError::new(
                NatsErrorKind::Consumer,
                format!("`{}` on stream `{}`: {why}", self.durable, self.stream),
            )
        };
        let consumer: PullConsumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(self.durable.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: self.ack_wait,
                filter_subject: filter_subject.clone(),
                max_ack_pending: (2 * self.max_batch).max(1000) as i64,
                ..Default::default()
            })
            .await
            .map_err(|e| consumer_error(e.to_string()))?;
        let kept = &consumer.cached_info().config.filter_subject;
        if *kept != filter_subject {
            return Err(consumer_error(format!(
                "it exists with the subject filter `{kept}`, and these patterns need \
                 `{filter_subject}`; delete it or choose another durable name"
            )));
        }
        Ok(NatsSource {
            consumer,
            patterns,
            filter_subject,
            stream: self.stream,
            durable: self.durable,
            max_batch: self.max_batch,
            max_wait: self.max_wait,
            reports: self.reports,
            stats: Arc::new(Mutex::new(NatsSourceStats::default())),
        })
    }
}

/// The consumer's subject filter for `patterns` (see
/// [`NatsSourceBuilder::with_patterns`]).
fn filter_subject(prefix: &str, patterns: &Patterns) -> String {
    let everything = format!("{prefix}.>");
    let Patterns::List(list) = patterns else {
        return everything;
    };
    let mut filters = list
        .iter()
        .map(|pattern| match pattern.find(['*', '?', '[', ']']) {
            None => subject_for(prefix, pattern),
            Some(glob) => match pattern[..glob].rfind('.') {
                Some(dot) => format!("{}.>", subject_for(prefix, &pattern[..dot])),
                None => everything.clone(),
            },
        });
    let first = filters.next().unwrap_or_else(|| everything.clone());
    if filters.all(|f| f == first) {
        first
    } else {
        everything
    }
}

/// A source's numbers.
///
/// ```
/// let stats = event_center::NatsSourceStats::default();
/// assert_eq!((stats.received, stats.delivered, stats.rejected), (0, 0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatsSourceStats {
    /// Messages pulled from the stream (redeliveries included).
    pub received: u64,
    /// Events handed to the callback (or the center) and acked.
    pub delivered: u64,
    /// Events the patterns did not match: acked, not handed over.
    pub filtered: u64,
    /// Messages that were not events (not JSON, not an event object):
    /// terminated (never delivered again), counted and reported.
    pub rejected: u64,
    /// Batches the callback failed: not acked, delivered again after a
    /// backoff.
    pub handler_failures: u64,
    /// Pulls or acks that failed (the server unreachable, the consumer
    /// deleted); the source retries with a backoff.
    pub errors: u64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// A pulled batch: the events to hand over, and every message to ack.
struct Pulled {
    events: Vec<Event>,
    messages: Vec<Message>,
}

/// Consumes a NATS JetStream stream of events (as [`NatsSink`] publishes
/// them) with a durable pull consumer, and hands them over in batches: to a
/// callback ([`run`](NatsSource::run)) or into a local center
/// ([`run_into`](NatsSource::run_into)). A batch is acked only once the
/// callback returned `Ok` (or the center took it), and the ack is
/// confirmed by the server, so a source stopped and started again with the
/// same durable name resumes after the last batch it took: nothing lost,
/// nothing acked delivered again.
///
/// [`NatsSink`]: crate::NatsSink
///
/// ```no_run
/// use event_center::{Event, NatsSource};
///
/// # async fn store(_: &[Event]) -> Result<(), std::io::Error> { Ok(()) }
/// # async fn example() -> Result<(), event_center::NatsError> {
/// let source = NatsSource::builder("nats://127.0.0.1:4222", "archiver")
///     .with_patterns("model.*")
///     .build()
///     .await?;
/// // Store each batch, then ack it, for an hour.
/// let stop = tokio::time::sleep(std::time::Duration::from_secs(3600));
/// let stats = source.run(stop, |events: Vec<Event>| async move { store(&events).await }).await;
/// println!("{} events stored", stats.delivered);
/// # Ok(())
/// # }
/// ```
pub struct NatsSource {
    consumer: PullConsumer,
    patterns: PatternSet,
    filter_subject: String,
    stream: String,
    durable: String,
    max_batch: usize,
    max_wait: Duration,
    reports: Option<EventCenter>,
    stats: Arc<Mutex<NatsSourceStats>>,
}

impl fmt::Debug for NatsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSource")
            .field("stream", &self.stream)
            .field("durable", &self.durable)
            .field("filter_subject", &self.filter_subject)
            .field("patterns", &self.patterns)
            .finish_non_exhaustive()
    }
}

impl NatsSource {
    /// A builder for a source reading from the NATS server at `url` with
    /// the durable consumer `durable` (its name on the server: sources
    /// with the same name share one position in the stream).
    ///
    /// ```
    /// let b = event_center::NatsSource::builder("nats://127.0.0.1:4222", "viewer");
    /// assert!(format!("{b:?}").contains("EVENTS"));
    /// ```
    pub fn builder(url: impl Into<String>, durable: impl Into<String>) -> NatsSourceBuilder {
        NatsSourceBuilder {
            url: url.into(),
            durable: durable.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            stream: DEFAULT_STREAM.to_owned(),
            patterns: Patterns::All,
            max_batch: DEFAULT_MAX_BATCH,
            max_wait: DEFAULT_MAX_WAIT,
            ack_wait: DEFAULT_ACK_WAIT,
            reports: None,
        }
    }

    /// The subject filter the consumer was created with (see
    /// [`NatsSourceBuilder::with_patterns`]).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), event_center::NatsError> {
    /// let source = event_center::NatsSource::builder("nats://127.0.0.1:4222", "v")
    ///     .with_patterns("model.*")
    ///     .build()
    ///     .await?;
    /// assert_eq!(source.filter_subject(), "events.model.>");
    /// # Ok(())
    /// # }
    /// ```
    pub fn filter_subject(&self) -> &str {
        &self.filter_subject
    }

    /// The source's numbers so far (callable while [`run`](Self::run)
    /// goes on).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), event_center::NatsError> {
    /// let source = event_center::NatsSource::builder("nats://127.0.0.1:4222", "v").build().await?;
    /// assert_eq!(source.stats().delivered, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stats(&self) -> NatsSourceStats {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, NatsSourceStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pulls batches and hands each to `handler` until `stop` completes
    /// (checked between batches), then returns the numbers.
    ///
    /// The handler gets the batch's events, in stream order, and returns
    /// `Ok` once it took them (stored, forwarded): then the batch is acked.
    /// An `Err` leaves the batch unacked: it is counted, and the same
    /// events come again after a backoff, so a store that fails for a while
    /// loses nothing (make it idempotent by `event_id`: an event whose ack
    /// was lost can come twice). Messages that are not events are
    /// terminated, counted and reported, and the rest of their batch goes
    /// on. A failed pull (the server restarting) is counted and retried.
    ///
    /// ```no_run
    /// use event_center::{Event, NatsSource};
    ///
    /// # async fn example() -> Result<(), event_center::NatsError> {
    /// let source = NatsSource::builder("nats://127.0.0.1:4222", "printer").build().await?;
    /// let stop = tokio::time::sleep(std::time::Duration::from_secs(10));
    /// source
    ///     .run(stop, |events: Vec<Event>| async move {
    ///         for event in &events {
    ///             println!("{} {}", event.event_id, event.event_type);
    ///         }
    ///         Ok::<(), std::io::Error>(())
    ///     })
    ///     .await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run<F, Fut, E>(
        &self,
        stop: impl Future<Output = ()>,
        handler: F,
    ) -> NatsSourceStats
    where
        F: FnMut(Vec<Event>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<BoxError>,
    {
        self.run_reporting(stop, handler, self.reports.clone())
            .await
    }

    /// [`run`](Self::run) into a local center: each event is emitted as it
    /// is (its id, timestamp and run kept; see
    /// [`EventCenter::emit_event_async`]), so the center's hooks see the
    /// remote events, and the batch is acked once the center took it.
    /// Messages that are not events are reported to this center (unless
    /// [`with_reports`](NatsSourceBuilder::with_reports) named another).
    ///
    /// ```no_run
    /// use event_center::{Event, EventCenter, NatsSource};
    ///
    /// # async fn example() -> Result<(), event_center::NatsError> {
    /// let center = EventCenter::new();
    /// center.register_hook("print", "*", |e: &Event| println!("{}", e.event_type)).unwrap();
    /// let source = NatsSource::builder("nats://127.0.0.1:4222", "local").build().await?;
    /// let stats = source.run_into(&center, tokio::time::sleep(std::time::Duration::from_secs(10))).await;
    /// println!("{} events", stats.delivered);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_into(
        &self,
        center: &EventCenter,
        stop: impl Future<Output = ()>,
    ) -> NatsSourceStats {
        let reports = self.reports.clone().unwrap_or_else(|| center.clone());
        let handler = |events: Vec<Event>| async move {
            for event in events {
                center.emit_event_async(event).await;
            }
            Ok::<(), std::convert::Infallible>(())
        };
        self.run_reporting(stop, handler, Some(reports)).await
    }

    async fn run_reporting<F, Fut, E>(
        &self,
        stop: impl Future<Output = ()>,
        mut handler: F,
        reports: Option<EventCenter>,
    ) -> NatsSourceStats
    where
        F: FnMut(Vec<Event>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<BoxError>,
    {
        let mut stop = pin!(stop);
        let mut failures = 0;
        while stop.as_mut().now_or_never().is_none() {
            let pulled = match self.pull(reports.as_ref()).await {
                Ok(pulled) => pulled,
                Err(error) => {
                    self.note_error(&error, false);
                    tokio::select! {
                        () = tokio::time::sleep(backoff(failures)) => {}
                        () = stop.as_mut() => break,
                    }
                    failures += 1;
                    continue;
                }
            };
            let count = pulled.events.len() as u64;
            let handled = if pulled.events.is_empty() {
                Ok(())
            } else {
                handler(pulled.events).await.map_err(Into::into)
            };
            match handled {
                Ok(()) => match ack(&pulled.messages).await {
                    Ok(()) => {
                        failures = 0;
                        self.lock().delivered += count;
                    }
                    Err(error) => self.note_error(&*error, false),
                },
                Err(error) => {
                    self.note_error(&*error, true);
                    let delay = AckKind::Nak(Some(backoff(failures)));
                    failures += 1;
                    for message in &pulled.messages {
                        let _ = message.ack_with(delay).await;
                    }
                }
            }
        }
        self.stats()
    }

    fn note_error(&self, error: &dyn fmt::Display, handler: bool) {
        let mut stats = self.lock();
        if handler {
            stats.handler_failures += 1;
            stats.last_error = Some(format!("the handler failed: {error}"));
        } else {
            stats.errors += 1;
            stats.last_error = Some(error.to_string());
        }
    }

    /// Pulls one batch (waiting up to `max_wait` for it to fill), sorting
    /// events from filtered events and terminating what is not an event.
    async fn pull(&self, reports: Option<&EventCenter>) -> Result<Pulled, BoxError> {
        let mut batch = self
            .consumer
            .batch()
            .max_messages(self.max_batch)
            .expires(self.max_wait)
            .messages()
            .await?;
        let mut pulled = Pulled {
            events: Vec::new(),
            messages: Vec::new(),
        };
        while let Some(message) = batch.next().await {
            let message = message?;
            self.lock().received += 1;
            let parsed = serde_json::from_slice(&message.payload)
                .map_err(EventError::invalid_json)
                .and_then(Event::from_json);
            match parsed {
                Ok(event) => {
                    if self.patterns.matches(&event.event_type) {
                        pulled.events.push(event);
                    } else {
                        self.lock().filtered += 1;
                    }
                    pulled.messages.push(message);
                }
                Err(error) => self.reject(&message, &error, reports).await,
            }
        }
        Ok(pulled)
    }

    /// Terminates a message that is not an event, counts and reports it.
    async fn reject(&self, message: &Message, error: &EventError, reports: Option<&EventCenter>) {
        let sequence = message.info().map_or(0, |info| info.stream_sequence);
        let why = format!(
            "message {sequence} on `{}` is not an event: {error}",
            message.subject
        );
        let terminated = message.ack_with(AckKind::Term).await;
        {
            let mut stats = self.lock();
            stats.rejected += 1;
            stats.last_error = Some(why.clone());
            if let Err(e) = &terminated {
                stats.errors += 1;
                stats.last_error = Some(format!("{why}; terminating it failed: {e}"));
            }
        }
        if let Some(center) = reports {
            center
                .emitter(REPORT_SOURCE)
                .emit(EVENTS_DROPPED)
                .level(Level::Warning)
                .message(why)
                .payload(json!({
                    "stream": self.stream,
                    "consumer": self.durable,
                    "subject": message.subject.as_str(),
                    "stream_sequence": sequence,
                    "dropped": 1,
                    "reason": "invalid_event",
                    "error": error.to_string(),
                }))
                .send();
        }
    }
}

/// Acks `messages`, the last one confirmed by the server: the server takes
/// a consumer's acks in order, so its confirmation covers the others.
async fn ack(messages: &[Message]) -> Result<(), BoxError> {
    let Some((last, rest)) = messages.split_last() else {
        return Ok(());
    };
    for message in rest {
        message.ack().await?;
    }
    last.double_ack().await
}
