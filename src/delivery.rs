//! How a hook receives its events: `Delivery`, `Overflow` and `HookOptions`.

use crate::coalesce::CoalescePolicy;

/// The queue capacity used when none is given: for async hooks' synchronous
/// path and for [`Delivery::coalesce`].
pub const DEFAULT_CAPACITY: usize = 65_536;

/// How a hook receives its events, chosen at registration with
/// [`HookOptions::with_delivery`].
///
/// ```
/// use event_center::{Delivery, Overflow};
///
/// // A file sink: never slows the agent; when it falls 1,024 events behind,
/// // the oldest queued events make room (and are counted as dropped).
/// let sink = Delivery::background(1024, Overflow::DropOldest);
/// assert!(matches!(sink, Delivery::Background { capacity: 1024, .. }));
/// assert_eq!(Delivery::default(), Delivery::Inline);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Delivery {
    /// Called in the emitting thread, in registration order, before the emit
    /// returns. For cheap hooks. An async hook registered `Inline` is awaited
    /// by [`send_async`](crate::Emit::send_async); [`send`](crate::Emit::send)
    /// hands it to the hook's worker through a queue of [`DEFAULT_CAPACITY`]
    /// events with [`Overflow::Block`].
    #[default]
    Inline,
    /// A bounded FIFO queue and a worker thread of the hook's own: the emitter
    /// only queues the event. Events from one thread arrive in emit order.
    /// The worker takes the whole queue at each wake-up, and hands the
    /// events it has handled back to the emits that follow, each freeing
    /// one (so the thread that allocated an event frees it, without
    /// fighting the worker for the allocator's locks). At most four times
    /// `capacity` events are held for the hook at once: the queue, the
    /// batch being handled and the handled events not yet freed (at most
    /// twice `capacity`); a worker frees what is left itself once no emit
    /// has come for 20 ms.
    Background {
        /// How many events may wait in the queue (at least 1).
        capacity: usize,
        /// What an emit does when the queue is full.
        overflow: Overflow,
    },
    /// Agently's summary policy on a background worker: high-frequency events
    /// (see [`is_high_frequency`](crate::is_high_frequency)) are buffered and
    /// arrive as one summary event; anything else first flushes the buffer,
    /// then is delivered itself.
    Coalesce {
        /// When buffers are flushed and what the summary holds.
        policy: CoalescePolicy,
        /// How many events may wait in the worker's queue (at least 1).
        capacity: usize,
        /// What an emit does when the queue is full.
        overflow: Overflow,
    },
}

impl Delivery {
    /// A background queue of `capacity` events with the given overflow
    /// policy. A capacity of 0 is taken as 1.
    ///
    /// ```
    /// use event_center::{Delivery, Overflow};
    /// let d = Delivery::background(0, Overflow::Block);
    /// assert_eq!(d, Delivery::Background { capacity: 1, overflow: Overflow::Block });
    /// ```
    pub fn background(capacity: usize, overflow: Overflow) -> Delivery {
        Delivery::Background {
            capacity: capacity.max(1),
            overflow,
        }
    }

    /// Coalescing with `policy`, behind a queue of [`DEFAULT_CAPACITY`]
    /// events that blocks the emitter when full (coalescing is cheap, so the
    /// queue fills only behind a hook that is slow on the events it does
    /// get).
    ///
    /// ```
    /// use event_center::{CoalescePolicy, Delivery, Overflow, DEFAULT_CAPACITY};
    /// let d = Delivery::coalesce(CoalescePolicy::new().with_max_items(50));
    /// assert!(matches!(
    ///     d,
    ///     Delivery::Coalesce { capacity: DEFAULT_CAPACITY, overflow: Overflow::Block, .. }
    /// ));
    /// ```
    pub fn coalesce(policy: CoalescePolicy) -> Delivery {
        Delivery::Coalesce {
            policy,
            capacity: DEFAULT_CAPACITY,
            overflow: Overflow::Block,
        }
    }

    /// The queue capacity and overflow policy, for the queued kinds.
    pub(crate) fn queue(&self) -> Option<(usize, Overflow)> {
        match self {
            Delivery::Inline => None,
            Delivery::Background { capacity, overflow }
            | Delivery::Coalesce {
                capacity, overflow, ..
            } => Some(((*capacity).max(1), *overflow)),
        }
    }
}

/// What an emit does when a hook's queue is full. Every event that is not
/// queued is counted as dropped, with its reason, in
/// [`HookStats::dropped`](crate::HookStats::dropped), and reported as an
/// `event_center.events_dropped` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Overflow {
    /// The emitter waits for room (backpressure). Nothing is dropped. An emit
    /// from a hook's worker thread never waits (that could deadlock two hooks
    /// that emit into each other): it queues past the capacity instead, and
    /// the high-water mark shows it.
    Block,
    /// The new event is dropped (counted as `queue_full`).
    DropNewest,
    /// The oldest queued event is dropped to make room (counted as
    /// `evicted`).
    DropOldest,
}

/// Registration options of a hook: its [`Delivery`] and whether it sees
/// redacted events.
///
/// ```
/// use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
///
/// let center = EventCenter::new();
/// let options = HookOptions::new().with_delivery(Delivery::background(1024, Overflow::DropOldest));
/// center
///     .register_hook_with("sink", "model.*", options, |event: &Event| {
///         let _ = event; // write it somewhere slow
///     })
///     .unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HookOptions {
    pub(crate) delivery: Delivery,
    pub(crate) redacted: bool,
}

impl Default for HookOptions {
    fn default() -> Self {
        HookOptions::new()
    }
}

impl HookOptions {
    /// `Inline` delivery of redacted events.
    ///
    /// ```
    /// use event_center::{Delivery, HookOptions};
    /// assert_eq!(HookOptions::new().delivery(), &Delivery::Inline);
    /// assert!(HookOptions::new().is_redacted());
    /// ```
    pub fn new() -> Self {
        HookOptions {
            delivery: Delivery::Inline,
            redacted: true,
        }
    }

    /// Sets how the hook receives its events.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// With `false`, the hook sees events as emitted, before the center's
    /// [`Redaction`](crate::Redaction) masks secret-looking values: for
    /// trusted in-process hooks only. Size limits apply to every hook.
    pub fn with_redaction(mut self, redacted: bool) -> Self {
        self.redacted = redacted;
        self
    }

    /// How the hook receives its events.
    ///
    /// ```
    /// use event_center::{Delivery, HookOptions};
    /// assert_eq!(HookOptions::default().delivery(), &Delivery::Inline);
    /// ```
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Whether the hook sees redacted events (the default).
    ///
    /// ```
    /// use event_center::HookOptions;
    /// assert!(HookOptions::default().is_redacted());
    /// ```
    pub fn is_redacted(&self) -> bool {
        self.redacted
    }
}
