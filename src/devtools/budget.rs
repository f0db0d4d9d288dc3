//! The server's resource bounds: memory for work in flight and for the live
//! streams, and the data directory's size.
//!
//! Work in flight (request bodies being read, parsed batches, batches
//! queued for the storage thread) draws on one budget of bytes. A request
//! takes its share before its body is read (from `Content-Length`, or as
//! the chunks of a body without one arrive), charged at what a parsed batch
//! takes in memory relative to its body ([`READ_FACTOR`], then
//! [`parsed_estimate`] once read if that is more), and gives it back once
//! its batch is committed and published (down to what the parsed batch
//! takes as soon as it is parsed). When the budget is
//! spent, a request waits (at most [`Limits::admission_wait`]), then is
//! answered 503 with `Retry-After`: Agently's bridge and this crate's
//! forwarder retry it. Small requests draw on a quarter of the budget kept
//! for them, so that a one-event ingest never waits behind 8 MiB bodies; a
//! single request larger than the rest is charged all of it and goes
//! through alone.

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
/// What a body is charged per byte before it is read: what a parsed batch
/// takes in memory relative to its body when its events are of a few
/// hundred bytes or more (with the body itself). Bodies of smaller events
/// take more (up to about 55 times their size for events of 20 bytes):
/// once read, a body is charged [`parsed_estimate`] when that is more.
pub(crate) const READ_FACTOR: usize = 8;
/// What a parsed object (an event, mostly) takes in memory, with its
/// normalized record and the entries it was read into.
const PER_OBJECT: usize = 1200;
/// What an object entry read into memory takes.
const PER_ENTRY: usize = 100;
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

/// One pool of the budget.
#[derive(Debug)]
struct Pool {
    permits: Arc<Semaphore>,
    /// Its size, in units.
    total: u32,
}

impl Pool {
    fn new(bytes: usize) -> Self {
        let total = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize) as u32);
        Pool {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }
}

/// The in-flight budget shared by the request handlers, in two pools: a
/// quarter for small requests (a charge of at most [`SMALL_SHARE`] of the
/// budget), so that they never queue behind large ones, and the rest for
/// the others. A large request is charged at most its whole pool.
#[derive(Debug)]
pub(crate) struct Budget {
    small: Pool,
    large: Pool,
    wait: Duration,
    /// The whole budget, in bytes, for messages.
    bytes: usize,
}

/// The largest charge taken from the small requests' pool, as a fraction
/// of the whole budget (1/64: 6 MiB of the default 384, a body of about
/// 100 KiB).
const SMALL_SHARE: usize = 64;

/// No room in the budget within the admission wait.
#[derive(Debug)]
pub(crate) struct Full {
    /// The budget, in bytes, for the message.
    pub(crate) budget: usize,
}

/// A share of the budget, given back on drop.
#[derive(Debug, Default)]
pub(crate) struct Share {
    small: Option<OwnedSemaphorePermit>,
    large: Option<OwnedSemaphorePermit>,
}

fn held(permit: &Option<OwnedSemaphorePermit>) -> u32 {
    permit.as_ref().map_or(0, |p| p.num_permits() as u32)
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Self {
        let small = limits.in_flight / 4;
        Budget {
            small: Pool::new(small),
            large: Pool::new(limits.in_flight - small),
            wait: limits.admission_wait,
            bytes: limits.in_flight,
        }
    }

    /// `bytes` of memory, in units.
    fn units(bytes: usize) -> u32 {
        u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
    }

    /// Grows `share` to `bytes` of memory if it holds less, waiting for
    /// room at most the admission wait (counted from `since`).
    pub(crate) async fn reserve(
        &self,
        share: &mut Share,
        bytes: usize,
        since: tokio::time::Instant,
    ) -> Result<(), Full> {
        let have = held(&share.small) + held(&share.large);
        match Self::units(bytes).checked_sub(have) {
            Some(more) if more > 0 => self.grow_units(share, more, since).await,
            _ => Ok(()),
        }
    }

    /// An empty share, to grow as a body arrives.
    pub(crate) fn empty(&self) -> Share {
        Share::default()
    }

    /// Grows `share` by the charge of `bytes` more of body, waiting for room
    /// at most the admission wait (counted from `since`).
    pub(crate) async fn grow(
        &self,
        share: &mut Share,
        bytes: usize,
        since: tokio::time::Instant,
    ) -> Result<(), Full> {
        let more = Self::units(bytes.saturating_mul(READ_FACTOR));
        self.grow_units(share, more, since).await
    }

    async fn grow_units(
        &self,
        share: &mut Share,
        more: u32,
        since: tokio::time::Instant,
    ) -> Result<(), Full> {
        if more == 0 {
            return Ok(());
        }
        let small_max = (self.bytes / SMALL_SHARE / UNIT) as u32;
        let (pool, slot) = if share.large.is_none() && held(&share.small) + more <= small_max {
            (&self.small, &mut share.small)
        } else {
            (&self.large, &mut share.large)
        };
        let wanted = more.min(pool.total.saturating_sub(held(slot)));
        if wanted == 0 {
            return Ok(());
        }
        let acquire = Arc::clone(&pool.permits).acquire_many_owned(wanted);
        match tokio::time::timeout_at(since + self.wait, acquire).await {
            Ok(Ok(permit)) => {
                match slot {
                    Some(held) => held.merge(permit),
                    None => *slot = Some(permit),
                }
                Ok(())
            }
            _ => Err(Full { budget: self.bytes }),
        }
    }

    /// Shrinks `share` to what `bytes` of parsed batch take (never grows
    /// it): the rest goes back to the budget at once.
    pub(crate) fn settle(&self, share: &mut Share, bytes: usize) {
        let mut keep = bytes.div_ceil(UNIT);
        for permit in [&mut share.large, &mut share.small].into_iter().flatten() {
            let held = permit.num_permits();
            if held > keep {
                drop(permit.split(held - keep));
            }
            keep = keep.saturating_sub(permit.num_permits());
        }
    }
}

/// An upper bound of what `body` takes in memory once parsed: the body,
/// the events' texts, and per object and per entry (counted by their `{`
/// and `:`, inside strings too) what they are read into. One pass over the
/// body, much faster than parsing it.
pub(crate) fn parsed_estimate(body: &[u8]) -> usize {
    let (mut objects, mut entries) = (0usize, 0usize);
    // Byte counters per chunk (at most 255 each), which the compiler turns
    // into vector instructions.
    for chunk in body.chunks(255) {
        let (mut o, mut e) = (0u8, 0u8);
        for &byte in chunk {
            o += u8::from(byte == b'{');
            e += u8::from(byte == b':');
        }
        objects += usize::from(o);
        entries += usize::from(e);
    }
    body.len() * 3 + objects * PER_OBJECT + entries * PER_ENTRY
}

impl ObservationServerBuilder {
    /// The memory for work in flight, in bytes (default 384 MiB): request
    /// bodies being read and parsed, and batches waiting for the storage
    /// thread, charged at what they take once parsed (8 times the body
    /// before it is read, up to about 55 times once read for a body of
    /// tiny events). When it is spent, an ingest waits up to 10 s for room,
    /// then gets 503 with `Retry-After: 1` (Agently's bridge and this
    /// crate's forwarder retry). A quarter is kept for small requests; a
    /// single body larger than the rest still goes through, alone.
    pub fn with_in_flight_budget(mut self, bytes: usize) -> Self {
        self.limits.in_flight = bytes;
        self
    }

    /// How long an ingest waits for room in the in-flight budget before it
    /// is answered 503 with `Retry-After` (default 10 s).
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
            in_flight: 400 * UNIT * READ_FACTOR,
            admission_wait: Duration::from_millis(50),
            stream_buffer: 0,
        });
        let now = tokio::time::Instant::now;
        let mut first = budget.empty();
        budget.grow(&mut first, 200 * UNIT, now()).await.unwrap();
        let mut second = budget.empty();
        assert!(budget.grow(&mut second, 200 * UNIT, now()).await.is_err());
        // Small requests have a pool of their own.
        let mut small = budget.empty();
        budget.grow(&mut small, UNIT, now()).await.unwrap();
        budget.settle(&mut first, 10 * UNIT);
        budget.grow(&mut second, 200 * UNIT, now()).await.unwrap();
        drop((first, second));
        let mut whole = budget.empty();
        // Larger than its pool: charged the whole of it.
        budget.grow(&mut whole, 1 << 30, now()).await.unwrap();
    }
}
