//! The builder and the configuration it fixes: the server's URL, the API
//! key, batching, buffering and the retry backoff.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::json;

use super::buffer::{Shared, State};
use super::error::{DevtoolsError, DevtoolsErrorKind};
use super::forwarder::{DevtoolsForwarder, Inner};
use super::sender::Sender;

#[cfg(doc)]
use super::guard::DevtoolsGuard;

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
    pub(super) close_timeout: Duration,
}

/// Builds a [`DevtoolsForwarder`]; see [`DevtoolsForwarder::builder`].
#[derive(Clone, Debug)]
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
    pub(super) close_timeout: Duration,
}

impl DevtoolsForwarderBuilder {
    /// The `app_id` of every batch (the server files events without one
    /// under `"default"`).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://127.0.0.1:15596")
    ///     .with_app_id("travel-agent")
    ///     .build()
    ///     .unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"app_id\":\"travel-agent\""));
    /// ```
    pub fn with_app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The `group_id` of every batch (a team, a tenant, an experiment).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_group_id("g1").build().unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"group_id\":\"g1\""));
    /// ```
    pub fn with_group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// The `environment` of every batch (`dev`, `staging`, `prod`).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_environment("dev").build().unwrap();
    /// assert!(String::from_utf8(f.ingest_body(&[])).unwrap().contains("\"environment\":\"dev\""));
    /// ```
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Sends `Authorization: Bearer <api_key>` (a server started with
    /// `--api-key` answers `401` without it).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_api_key("secret").build().unwrap();
    /// assert!(!format!("{f:?}").contains("secret"));
    /// ```
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// A batch is sent when it holds `max_events` events or when its first
    /// event has waited `max_delay` (default: 256 events, 200 ms). A zero
    /// `max_events` is taken as 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_batch(500, Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
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
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h").with_buffer(10_000).build().unwrap();
    /// # drop(f);
    /// ```
    pub fn with_buffer(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long to wait between attempts while the server fails (default
    /// [`DevtoolsBackoff::default`]). A batch is retried until it is sent (or until
    /// a shutdown's timeout), keeping its events; the buffer bounds what
    /// waits behind it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{DevtoolsBackoff, DevtoolsForwarder};
    /// let f = DevtoolsForwarder::builder("http://h")
    ///     .with_retry(DevtoolsBackoff::new(Duration::from_millis(50), Duration::from_secs(2)))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_retry(mut self, backoff: DevtoolsBackoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The timeout of each request (default 10 s).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_timeout(std::time::Duration::from_secs(2))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long dropping the last handle (or a [`DevtoolsGuard`]) waits for
    /// the buffered events to be sent (default 5 s).
    ///
    /// ```
    /// let f = event_center::DevtoolsForwarder::builder("http://h")
    ///     .with_close_timeout(std::time::Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(f);
    /// ```
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Checks the URL and the key and starts the sender thread.
    ///
    /// The URL is the server's base URL (`http://127.0.0.1:15596`, events go
    /// to `/observation/ingest` under it) or, when its path ends with
    /// `/ingest`, the ingest URL itself (the one `agently-devtools start`
    /// prints).
    ///
    /// ```
    /// use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
    /// assert!(DevtoolsForwarder::builder("http://127.0.0.1:15596").build().is_ok());
    /// assert!(DevtoolsForwarder::builder("https://devtools.example/observation/ingest").build().is_ok());
    /// let err = DevtoolsForwarder::builder("ftp://h").build().unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
    /// ```
    pub fn build(self) -> Result<DevtoolsForwarder, DevtoolsError> {
        let error = |kind, detail: String| DevtoolsError { kind, detail };
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
                close_timeout: self.close_timeout,
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
