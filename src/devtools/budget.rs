//! The server's resource bounds: memory for work in flight and for the live
//! streams, and the data directory's size.
//!
//! Work in flight (request bodies being read, parsed batches, batches
//! queued for the storage thread) draws on one budget of bytes. A request
//! takes its share before its body is read (from `Content-Length`, or as
//! the chunks of a body without one arrive), charged at what a parsed batch
//! takes in memory relative to its body ([`PARSED_FACTOR`]), and gives it
//! back once its batch is committed and published. When the budget is
//! spent, a request waits (at most [`Limits::admission_wait`]), then is
//! answered 503 with `Retry-After`: Agently's bridge and this crate's
//! forwarder retry it. A single request larger than the whole budget is
//! charged the whole budget, so it goes through alone.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::server::ObservationServerBuilder;

/// The default budget for work in flight.
const DEFAULT_IN_FLIGHT: usize = 384 << 20;
/// The default byte cap of the live-stream buffer.
const DEFAULT_STREAM_BUFFER: usize = 64 << 20;
/// How long a request waits for room by default.
const DEFAULT_ADMISSION_WAIT: Duration = Duration::from_secs(10);
/// What a parsed batch takes in memory per byte of its body, with the body
/// itself: measured at about 55 for bodies of small events (each event's
/// normalized record, run context and JSON text outweigh its few bytes of
/// input), less for larger ones.
pub(crate) const PARSED_FACTOR: usize = 56;
/// The budget's unit: permits are KiB.
const UNIT: usize = 1024;

/// The resource bounds: see [`ObservationServerBuilder::with_in_flight_budget`]
/// and [`ObservationServerBuilder::with_stream_buffer`].
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// Bytes of work in flight.
    pub(crate) in_flight: usize,
    /// How long a request waits for room in the budget before a 503.
    pub(crate) admission_wait: Duration,
    /// Bytes of published events the live streams may hold for their
    /// slowest subscriber.
    pub(crate) stream_buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            in_flight: DEFAULT_IN_FLIGHT,
            admission_wait: DEFAULT_ADMISSION_WAIT,
            stream_buffer: DEFAULT_STREAM_BUFFER,
        }
    }
}

/// The in-flight budget shared by the request handlers.
#[derive(Debug)]
pub(crate) struct Budget {
    permits: Arc<Semaphore>,
    /// The whole budget, in units.
    total: u32,
    wait: Duration,
}

/// No room in the budget within the admission wait.
#[derive(Debug)]
pub(crate) struct Full {
    /// The budget, in bytes, for the message.
    pub(crate) budget: usize,
}

/// A share of the budget, given back on drop.
#[derive(Debug)]
pub(crate) struct Share {
    permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Self {
        let total = u32::try_from(limits.in_flight.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize) as u32);
        Budget {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
            wait: limits.admission_wait,
        }
    }

    /// The charge for a body of `bytes` once parsed, in units (at most the
    /// whole budget).
    fn units(&self, bytes: usize) -> u32 {
        let units = bytes.saturating_mul(PARSED_FACTOR).div_ceil(UNIT);
        u32::try_from(units).unwrap_or(u32::MAX).min(self.total)
    }

    /// An empty share, to grow as a body arrives.
    pub(crate) fn empty(&self) -> Share {
        Share { permit: None }
    }

    /// Grows `share` by the charge of `bytes` more of body, waiting for room
    /// at most the admission wait (counted from `since`).
    pub(crate) async fn grow(
        &self,
        share: &mut Share,
        bytes: usize,
        since: tokio::time::Instant,
    ) -> Result<(), Full> {
        let held = share.permit.as_ref().map_or(0, |p| p.num_permits()) as u32;
        let wanted = self.units_total(held, bytes);
        if wanted == 0 {
            return Ok(());
        }
        let acquire = Arc::clone(&self.permits).acquire_many_owned(wanted);
        match tokio::time::timeout_at(since + self.wait, acquire).await {
            Ok(Ok(permit)) => {
                match &mut share.permit {
                    Some(held) => held.merge(permit),
                    None => share.permit = Some(permit),
                }
                Ok(())
            }
            _ => Err(Full {
                budget: self.total as usize * UNIT,
            }),
        }
    }

    /// The more units a share holding `held` needs for `bytes` more.
    fn units_total(&self, held: u32, bytes: usize) -> u32 {
        let more = self.units(bytes);
        more.min(self.total.saturating_sub(held))
    }

    /// Shrinks `share` to what `bytes` of parsed batch take (never grows
    /// it): the rest goes back to the budget at once.
    pub(crate) fn settle(&self, share: &mut Share, bytes: usize) {
        let keep = bytes.div_ceil(UNIT);
        if let Some(permit) = &mut share.permit {
            let held = permit.num_permits();
            if held > keep {
                drop(permit.split(held - keep));
            }
        }
    }
}

impl ObservationServerBuilder {
    /// The memory for work in flight, in bytes (default 384 MiB): request
    /// bodies being read and parsed, and batches waiting for the storage
    /// thread, charged at what they take once parsed (about 56 times a
    /// body of small events). When it is spent, an ingest waits up to 10 s
    /// for room, then gets 503 with `Retry-After: 1` (Agently's bridge and
    /// this crate's forwarder retry). A single body larger than the budget
    /// still goes through, alone.
    ///
    /// ```
    /// let builder = event_center::ObservationServer::builder().with_in_flight_budget(64 << 20);
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn with_in_flight_budget(mut self, bytes: usize) -> Self {
        self.limits.in_flight = bytes;
        self
    }

    /// How long an ingest waits for room in the in-flight budget before it
    /// is answered 503 with `Retry-After` (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = event_center::ObservationServer::builder()
    ///     .with_admission_wait(Duration::from_millis(500));
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn with_admission_wait(mut self, wait: Duration) -> Self {
        self.limits.admission_wait = wait;
        self
    }

    /// The bytes of newly stored events the live streams (`/stream`,
    /// `/ws`) keep for subscribers that have not read them yet (default 64
    /// MiB). A subscriber that falls further behind skips the oldest and is
    /// told how many it missed (an `event: gap` on the server-sent events
    /// stream, a `{"type": "gap", "skipped": N}` message on the websocket);
    /// the total is in `/healthz` as `stream_events_skipped`.
    ///
    /// ```
    /// let builder = event_center::ObservationServer::builder().with_stream_buffer(8 << 20);
    /// assert!(builder.build().is_ok());
    /// ```
    pub fn with_stream_buffer(mut self, bytes: usize) -> Self {
        self.limits.stream_buffer = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_budget_refuses_after_the_wait_and_frees_on_drop() {
        let budget = Budget::new(&Limits {
            in_flight: 100 * UNIT * PARSED_FACTOR,
            admission_wait: Duration::from_millis(50),
            stream_buffer: 0,
        });
        let now = tokio::time::Instant::now;
        let mut first = budget.empty();
        budget.grow(&mut first, 60 * UNIT, now()).await.unwrap();
        let mut second = budget.empty();
        assert!(budget.grow(&mut second, 60 * UNIT, now()).await.is_err());
        budget.settle(&mut first, 10 * UNIT);
        budget.grow(&mut second, 60 * UNIT, now()).await.unwrap();
        drop((first, second));
        let mut whole = budget.empty();
        // Larger than the budget: charged the whole of it.
        budget.grow(&mut whole, 1 << 30, now()).await.unwrap();
    }
}
