//! Event ids (UUIDv7) and the clock and per-thread random numbers they are
//! made from.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Unix time in milliseconds.
///
/// The system clock is read every 100 ms per thread; in between, the time is
/// the last reading plus the time elapsed on the CPU's timestamp counter
/// (through `quanta`, which falls back to the OS clock where the counter is
/// not reliable). That keeps millisecond precision at a fraction of a
/// `clock_gettime` call per event. The period bounds how far an error in the
/// counter's measured frequency can carry the time away from the system
/// clock: with a whole second between readings, a test on a busy virtual
/// machine saw a timestamp 2 ms behind it.
pub(crate) fn now_millis() -> i64 {
    /// How often each thread reads the system clock.
    const ANCHOR_PERIOD: std::time::Duration = std::time::Duration::from_millis(100);
    /// `(counter reading, wall-clock ms, ns past that ms)` at the last anchor.
    type Anchor = Option<(quanta::Instant, i64, u64)>;
    thread_local! {
        static ANCHOR: Cell<Anchor> = const { Cell::new(None) };
    }
    ANCHOR.with(|anchor| {
        let now = quanta::Instant::now();
        if let Some((at, millis, nanos)) = anchor.get() {
            let elapsed = now.saturating_duration_since(at);
            if elapsed < ANCHOR_PERIOD {
                let past = nanos + u64::from(elapsed.subsec_nanos());
                return millis + (past / 1_000_000) as i64;
            }
        }
        let wall = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d,
            Err(_) => std::time::Duration::ZERO,
        };
        let millis = wall.as_millis() as i64;
        anchor.set(Some((
            now,
            millis,
            u64::from(wall.subsec_nanos() % 1_000_000),
        )));
        millis
    })
}

/// A fast per-thread pseudo-random source (wyrand), seeded from the standard
/// library's randomly keyed hasher. Good for id uniqueness, not for secrets.
pub(crate) fn fast_random() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    fn seed() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now_millis() as u64);
        h.write_usize(&h as *const _ as usize);
        h.finish()
    }
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) ^ t) as u64
    })
}

/// An event's id: 32 lowercase hex characters on the wire.
///
/// Generated ids are UUIDv7 (time-ordered, from the event's own millisecond
/// and a fast thread-local random source) kept as a `u128` and formatted only
/// when serialized. Ids that arrive from elsewhere in any other shape (an
/// ingest batch may say `"ev-0001"`) are kept verbatim.
///
/// ```
/// use event_center::EventId;
///
/// let id = EventId::new();
/// let text = id.to_string();
/// assert_eq!(text.len(), 32);
/// assert_eq!(EventId::parse(&text), id);
/// assert_eq!(EventId::parse("ev-0001").to_string(), "ev-0001");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventId(IdRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IdRepr {
    Uuid(u128),
    Text(Arc<str>),
}

impl EventId {
    /// A new UUIDv7 id for the current millisecond.
    ///
    /// ```
    /// let a = event_center::EventId::new();
    /// let b = event_center::EventId::new();
    /// assert_ne!(a, b);
    /// ```
    pub fn new() -> Self {
        Self::at_millis(now_millis())
    }

    /// A new UUIDv7 id for the given Unix millisecond (the clock is not read).
    pub(crate) fn at_millis(millis: i64) -> Self {
        let random = (u128::from(fast_random()) << 64) | u128::from(fast_random());
        let bytes = random.to_be_bytes();
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&bytes[..10]);
        let uuid =
            uuid::Builder::from_unix_timestamp_millis(millis.max(0) as u64, &tail).into_uuid();
        EventId(IdRepr::Uuid(uuid.as_u128()))
    }

    /// Reads an id from its wire form. Any string is a valid id; 32 lowercase
    /// hex characters are stored compactly.
    ///
    /// ```
    /// use event_center::EventId;
    /// let id = EventId::parse("bb66fc335fd541758bb8f850568180f3");
    /// assert_eq!(id.to_string(), "bb66fc335fd541758bb8f850568180f3");
    /// ```
    pub fn parse(text: &str) -> Self {
        let compact =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match compact
            .then(|| u128::from_str_radix(text, 16).ok())
            .flatten()
        {
            Some(n) => EventId(IdRepr::Uuid(n)),
            None => EventId(IdRepr::Text(Arc::from(text))),
        }
    }

    /// Calls `f` with the id's wire form, without allocating.
    pub(crate) fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match &self.0 {
            IdRepr::Uuid(n) => f(Self::write_hex(*n, &mut [0; 32])),
            IdRepr::Text(s) => f(s),
        }
    }

    fn write_hex(n: u128, buf: &mut [u8; 32]) -> &str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte = HEX[((n >> (124 - 4 * i)) & 0xf) as usize];
        }
        // Only ASCII hex digits were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_str(|id| f.pad(id))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_str(|id| serializer.serialize_str(id))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(EventId::parse(&text))
    }
}
