//! The builder and the configuration it fixes: the server's URL, the API
//! key, batching, buffering, the retry backoff and the hook's patterns and
//! delivery; and the registration.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::json;

use super::buffer::{Shared, State};
use super::error::{DevtoolsError, DevtoolsErrorKind};
use super::forwarder::{DevtoolsForwarder, Inner};
use super::guard::DevtoolsGuard;
use super::sender::Sender;
use crate::center::EventCenter;
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::pattern::Patterns;
use crate::sinks::registration::Registration;

/// The ingest path posted to when the URL given is the server's base URL.
const INGEST_PATH: &str = "/observation/ingest";

/// A capped exponential backoff: the first retry waits `initial`, each next
/// one twice as long, never more than `max`. The default: 100 ms up to 5 s.
///
/// ```
/// use std::time::Duration;
/// use event_center::DevtoolsBackoff;
///
/// let backoff = DevtoolsBackoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(backoff.delay(0), Duration::from_millis(100));
/// assert_eq!(backoff.delay(2), Duration::from_millis(400));
/// assert_eq!(backoff.delay(10), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevtoolsBackoff {
    initial: Duration,
    max: Duration,
}

impl Default for DevtoolsBackoff {
    fn default() -> Self {
        DevtoolsBackoff::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl DevtoolsBackoff {
    /// Waits `initial` before the first retry, doubling up to `max` (a `max`
    /// below `initial` is taken as `initial`; a zero `initial` as 1 ms).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = event_center::DevtoolsBackoff::new(Duration::ZERO, Duration::ZERO);
    /// assert_eq!(b.delay(5), Duration::from_millis(1));
    /// ```
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        DevtoolsBackoff {
            initial,
            max: max.max(initial),
        }
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    ///
    /// ```
    /// let b = event_center::DevtoolsBackoff::default();
    /// assert_eq!(b.delay(0), std::time::Duration::from_millis(100));
    /// assert_eq!(b.delay(100), std::time::Duration::from_secs(5));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// The configuration, fixed at `build()`.
pub(super) struct Config {
    pub(super) endpoint: String,
    pub(super) authorization: Option<String>,
    /// `{"app_id":..,"group_id":..,"environment":..,"events":[`
    pub(super) body_prefix: Vec<u8>,
    pub(super) max_batch: usize,
    pub(super) max_delay: Duration,
    pub(super) capacity: usize,
    pub(super) backoff: DevtoolsBackoff,
    pub(super) timeout: Duration,
    pub(super) flush_timeout: Duration,
}

/// Builds a [`DevtoolsForwarder`] and registers it; see
/// [`DevtoolsForwarder::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{DevtoolsBackoff, DevtoolsForwarder, EventCenter};
///
/// let center = EventCenter::new();
/// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9") // nothing listens there
///     .with_app_id("travel-agent")
///     .with_environment("dev")
///     .with_batch(500, Duration::from_millis(50))
///     .with_buffer(10_000)
///     .with_retry(DevtoolsBackoff::new(Duration::from_millis(50), Duration::from_secs(2)))
///     .with_patterns(["agent_execution.*", "model.*", "tool.*"])
///     .with_flush_timeout(Duration::ZERO) // at drop, give up at once
///     .register(&center, "devtools")?;
/// center.emitter("Agent").emit("model.requesting").send();
/// guard.flush(Duration::from_millis(200)); // kept, retried
/// let stats = guard.stats();
/// assert_eq!((stats.accepted, stats.sent, stats.pending), (1, 0, 1));
/// # Ok::<(), event_center::DevtoolsError>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until register() is called"]
pub struct DevtoolsForwarderBuilder {
    pub(super) url: String,
    pub(super) app_id: Option<String>,
    pub(super) group_id: Option<String>,
    pub(super) environment: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) max_batch: usize,
    pub(super) max_delay: Duration,
    pub(super) capacity: usize,
    pub(super) backoff: DevtoolsBackoff,
    pub(super) timeout: Duration,
    pub(super) flush_timeout: Duration,
    pub(super) patterns: Patterns,
    pub(super) delivery: Option<Delivery>,
}

impl fmt::Debug for DevtoolsForwarderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevtoolsForwarderBuilder")
            .field("url", &self.url)
            .field("app_id", &self.app_id)
            .field("group_id", &self.group_id)
            .field("environment", &self.environment)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_batch", &self.max_batch)
            .field("max_delay", &self.max_delay)
            .field("capacity", &self.capacity)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .field("flush_timeout", &self.flush_timeout)
            .field("patterns", &self.patterns)
            .field("delivery", &self.delivery)
            .finish()
    }
}

impl DevtoolsForwarderBuilder {
    /// The `app_id` of every batch (the server files events without one
    /// under `"default"`).
    pub fn with_app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The `group_id` of every batch (a team, a tenant, an experiment).
    pub fn with_group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// The `environment` of every batch (`dev`, `staging`, `prod`).
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Sends `Authorization: Bearer <api_key>` (a server started with
    /// `--api-key` answers `401` without it).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// A batch is sent when it holds `max_events` events or when its first
    /// event has waited `max_delay` (default: 256 events, 200 ms). A zero
    /// `max_events` is taken as 1.
    pub fn with_batch(mut self, max_events: usize, max_delay: Duration) -> Self {
        self.max_batch = max_events.max(1);
        self.max_delay = max_delay;
        self
    }

    /// How many events the forwarder buffers while the server is slow or
    /// down (default 65,536; 0 is taken as 1). When it is full,
    /// high-frequency and coalesced events make room first, then the
    /// oldest. At most this many events, plus the batch being sent, are
    /// held.
    pub fn with_buffer(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long to wait between attempts while the server fails (default
    /// [`DevtoolsBackoff::default`]). A batch is retried until it is sent (or until
    /// a shutdown's timeout), keeping its events; the buffer bounds what
    /// waits behind it.
    pub fn with_retry(mut self, backoff: DevtoolsBackoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The timeout of each request (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long dropping the [`DevtoolsGuard`] waits for the forwarder's
    /// queue and for the buffered events to be sent (default 5 s); what is
    /// left then is dropped and counted (`shutdown`).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// The event types forwarded (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes; a bad pattern is reported by
    /// [`register`](Self::register).
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// How the forwarder's hook receives its events. Default: a background
    /// queue as large as the forwarder's [buffer](Self::with_buffer) that
    /// drops the oldest when full ([`Overflow::DropOldest`]); it fills only
    /// if the hook's thread gets no CPU. [`Delivery::Coalesce`] makes
    /// streams of deltas arrive as summaries. Keep the delivery queued: the
    /// hook takes a lock.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = Some(delivery);
        self
    }

    /// Checks the URL and the key, starts the sender thread and registers
    /// the forwarder on `center` under `name`, with its patterns and
    /// delivery, and routes its drop reports to `center`. Events are
    /// redacted by the center's [`Redaction`](crate::Redaction) before they
    /// leave the process. Returns the guard, the forwarder's only handle,
    /// which flushes and shuts the forwarder down when dropped.
    ///
    /// The URL is the server's base URL (`http://127.0.0.1:15596`, events go
    /// to `/observation/ingest` under it) or, when its path ends with
    /// `/ingest`, the ingest URL itself (the one `agently-devtools start`
    /// prints).
    ///
    /// # Errors
    ///
    /// A [`DevtoolsError`]: a URL that is not `http://` or `https://` with a
    /// host ([`DevtoolsErrorKind::InvalidUrl`]), a key that cannot be sent
    /// in a header ([`DevtoolsErrorKind::InvalidApiKey`]), no thread for the
    /// sender ([`DevtoolsErrorKind::ThreadUnavailable`]), or the center
    /// refused the hook ([`DevtoolsErrorKind::Register`], with the center's
    /// error in [`register_error`](DevtoolsError::register_error)).
    ///
    /// ```
    /// use event_center::{DevtoolsErrorKind, DevtoolsForwarder, EventCenter};
    ///
    /// let center = EventCenter::new();
    /// let guard = DevtoolsForwarder::builder("https://devtools.example/observation/ingest")
    ///     .register(&center, "devtools")
    ///     .unwrap();
    /// assert_eq!(center.hook_names(), ["devtools"]);
    /// # guard.shutdown(std::time::Duration::ZERO);
    /// let err = DevtoolsForwarder::builder("ftp://h").register(&center, "devtools").unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: &str,
    ) -> Result<DevtoolsGuard, DevtoolsError> {
        let delivery = self
            .delivery
            .clone()
            .unwrap_or_else(|| Delivery::background(self.capacity.max(1), Overflow::DropOldest));
        let options = HookOptions::new().with_delivery(delivery);
        let (patterns, flush_timeout) = (self.patterns.clone(), self.flush_timeout);
        let forwarder = self.build()?;
        let shared = forwarder.inner.shared.clone();
        let registration =
            Registration::new(center, name, patterns, options, forwarder, flush_timeout)
                .map_err(DevtoolsError::register)?;
        *shared.reports.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((center.clone(), name.to_owned()));
        Ok(DevtoolsGuard { registration })
    }

    /// Checks the URL and the key and starts the sender thread.
    fn build(self) -> Result<DevtoolsForwarder, DevtoolsError> {
        let error = |kind, detail: String| DevtoolsError::new(kind, detail);
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"));
        let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', ':', '?', '#']));
        if !host_ok {
            return Err(error(DevtoolsErrorKind::InvalidUrl, self.url.clone()));
        }
        let base = url.trim_end_matches('/');
        let endpoint = if base.ends_with("/ingest") {
            base.to_owned()
        } else {
            format!("{base}{INGEST_PATH}")
        };
        let agent = ureq::AgentBuilder::new()
            .user_agent(concat!("event-center/", env!("CARGO_PKG_VERSION")))
            .build();
        if let Err(e) = agent.post(&endpoint).request_url() {
            return Err(error(
                DevtoolsErrorKind::InvalidUrl,
                format!("{}: {e}", self.url),
            ));
        }
        let authorization = match self.api_key {
            None => None,
            Some(key) => {
                if key.is_empty() {
                    return Err(error(DevtoolsErrorKind::InvalidApiKey, "empty".into()));
                }
                if key.chars().any(|c| c.is_control()) {
                    return Err(error(
                        DevtoolsErrorKind::InvalidApiKey,
                        "it holds a control character".into(),
                    ));
                }
                Some(format!("Bearer {key}"))
            }
        };
        let mut body_prefix = serde_json::to_vec(&json!({
            "app_id": self.app_id,
            "group_id": self.group_id,
            "environment": self.environment,
        }))
        .unwrap_or_else(|_| b"{}".to_vec());
        body_prefix.pop(); // the closing brace
        body_prefix.extend_from_slice(br#","events":["#);
        let shared = Arc::new(Shared {
            config: Config {
                endpoint,
                authorization,
                body_prefix,
                max_batch: self.max_batch,
                max_delay: self.max_delay,
                capacity: self.capacity,
                backoff: self.backoff,
                timeout: self.timeout,
                flush_timeout: self.flush_timeout,
            },
            agent,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            settled: Condvar::new(),
            reports: Mutex::new(None),
            thread: Mutex::new(None),
        });
        let sender = Sender {
            shared: shared.clone(),
            body: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("devtools-forwarder".into())
            .spawn(move || sender.run())
            .map_err(|e| error(DevtoolsErrorKind::ThreadUnavailable, e.to_string()))?;
        *shared.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(DevtoolsForwarder {
            inner: Arc::new(Inner { shared }),
        })
    }
}
