//! A forwarder's numbers: what it accepted, sent and dropped, by reason;
//! see `DevtoolsGuard::stats`.

/// Events the forwarder accepted and did not send, by reason.
///
/// ```
/// let dropped = event_center::DevtoolsDropped::default();
/// assert_eq!(dropped.total(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevtoolsDropped {
    /// High-frequency events (see [`is_high_frequency`](crate::is_high_frequency))
    /// that made room in a full buffer: they go first.
    pub high_frequency: u64,
    /// Coalesced summary events (`meta.coalesced`) that made room in a full
    /// buffer, with the high-frequency ones.
    pub coalesced: u64,
    /// The oldest buffered events, when a full buffer held nothing
    /// high-frequency or coalesced.
    pub oldest: u64,
    /// Events the server refused one by one (`400`, `413` or `422` for a
    /// batch of that event alone), or that could not be serialized.
    pub rejected: u64,
    /// Events still unsent when a shutdown's timeout came, or offered after
    /// the shutdown.
    pub shutdown: u64,
}

impl DevtoolsDropped {
    /// All drops.
    ///
    /// ```
    /// let mut dropped = event_center::DevtoolsDropped::default();
    /// dropped.oldest = 2;
    /// dropped.high_frequency = 3;
    /// assert_eq!(dropped.total(), 5);
    /// ```
    pub fn total(&self) -> u64 {
        self.high_frequency + self.coalesced + self.oldest + self.rejected + self.shutdown
    }
}

/// A forwarder's numbers. Every accepted event ends as sent or dropped and
/// is pending until then: `accepted == sent + dropped.total() + pending`.
///
/// ```
/// use event_center::{DevtoolsForwarder, EventCenter};
///
/// let guard = DevtoolsForwarder::builder("http://127.0.0.1:9").register(&EventCenter::new(), "dt")?;
/// let stats = guard.stats();
/// assert_eq!(stats.accepted, stats.sent + stats.dropped.total() + stats.pending);
/// assert!(stats.last_error.is_none());
/// # guard.shutdown(std::time::Duration::ZERO);
/// # Ok::<(), event_center::DevtoolsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevtoolsStats {
    /// Events the hook received.
    pub accepted: u64,
    /// Events the server acknowledged.
    pub sent: u64,
    /// Events dropped, by reason.
    pub dropped: DevtoolsDropped,
    /// Events buffered or being sent.
    pub pending: u64,
    /// Requests the server acknowledged.
    pub requests: u64,
    /// Failed attempts that were retried after a backoff (the events kept).
    pub retries: u64,
    /// The most buffered events at once.
    pub high_water: u64,
    /// The last failure: the request, the status or transport error, and
    /// the server's answer.
    pub last_error: Option<String>,
}
