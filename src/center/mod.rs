//! `EventCenter`: the hook registry, the emit entry points, and `global()`.

mod builder;
mod register;
#[cfg(any(
    feature = "jsonl",
    feature = "nats",
    feature = "otlp",
    feature = "tracing",
    feature = "devtools-client"
))]
pub(crate) mod sink_hooks;
mod stats;

pub use builder::EventCenterBuilder;
pub use register::{RegisterError, RegisterErrorKind};
pub use stats::{CenterStats, Dropped, FlushReport, HookStats};

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::dispatch::{emit, emit_async};
use crate::emitter::Emitter;
use crate::event::{Event, EventError};
use crate::hook_entry::{DropReason, HookEntry};
use crate::redact::{Redaction, SizeLimit};
use crate::registry::Registry;
use crate::registry::Resolved;
use crate::text::SharedStr;
use crate::worker::Worker;

/// The observation event center: a concurrent registry of hooks that
/// delivers each event to those whose patterns match.
///
/// Cloning is cheap and gives another handle to the same center. Independent
/// `EventCenter::new()` instances share nothing; [`global`] is one lazily
/// created instance for the common case.
///
/// ```
/// use event_center::{Event, EventCenter};
///
/// let center = EventCenter::new();
/// center
///     .register_hook("printer", "action.*", |event: &Event| {
///         println!("{} from {}", event.event_type, event.source);
///     })
///     .unwrap();
///
/// let emitter = center.emitter("Planner");
/// emitter.emit("action.loop_started").message("planning").send();
/// ```
#[derive(Clone)]
pub struct EventCenter {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) registry: Registry,
    seq: AtomicU64,
    pub(crate) recursion_cut: AtomicU64,
    pub(crate) hook_failures: AtomicU64,
    redaction: Redaction,
    size_limit: Option<SizeLimit>,
    shut_down: AtomicBool,
    /// Unregistered (or replaced) hooks whose workers may still be draining:
    /// flush and shutdown wait for them and count them.
    retired: Mutex<Vec<Arc<HookEntry>>>,
    /// Which Rust type each typed event type string stands for.
    pub(crate) typed: crate::typed::TypedRegistry,
}

impl Inner {
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Applies the size limit and the redaction to `event` before any hook
    /// sees it, and stamps its `seq`. Returns, when redaction changed it and
    /// a matching hook opted out of redaction, the unredacted event for those
    /// hooks.
    #[inline]
    pub(crate) fn seal(&self, event: &mut Event, resolved: &Resolved) -> Option<Arc<Event>> {
        event.seq = self.next_seq();
        if let Some(limit) = &self.size_limit {
            limit.apply(event);
        }
        if !self.redaction.is_enabled() {
            return None;
        }
        let trusted = |r: &Resolved| r.hooks.iter().any(|h| !h.redacted);
        let wants_raw =
            trusted(resolved) || resolved.twin.as_ref().is_some_and(|t| trusted(&t.resolved));
        let raw =
            (wants_raw && self.redaction.needs_redaction(event)).then(|| Arc::new(event.clone()));
        self.redaction.redact(event);
        raw
    }

    /// Every hook with a worker, registered or retired, pruning retired
    /// hooks whose workers have ended.
    fn queued_hooks(&self) -> Vec<Arc<HookEntry>> {
        let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        retired.retain(|e| e.worker.get().is_some_and(|w| !w.is_finished()));
        let mut hooks: Vec<_> = self
            .registry
            .hooks()
            .into_iter()
            .filter(|e| e.worker.get().is_some())
            .collect();
        hooks.extend(retired.iter().cloned());
        hooks
    }

    /// Stops a hook that left the registry: its worker drops what is still
    /// queued (counted as unregistered) and flushes its coalescing buffer.
    fn retire(&self, entry: &Arc<HookEntry>) {
        if !entry.is_queued_or_async() {
            return;
        }
        // An emitter that saw the hook still active may be starting its
        // worker right now: settle it through the same cell, so that worker
        // (or a closed stand-in, if none was started) is the one closed here.
        let worker = entry.worker.get_or_init(|| {
            Worker::closed(DropReason::Unregistered, &entry.delivery, &entry.shared)
        });
        worker.close(DropReason::Unregistered);
        self.retired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry.clone());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Nobody can emit any more: let every worker drain and end.
        for entry in self.registry.hooks() {
            if let Some(worker) = entry.worker.get() {
                worker.close(DropReason::Shutdown);
            }
        }
    }
}

impl Default for EventCenter {
    fn default() -> Self {
        EventCenter::new()
    }
}

impl fmt::Debug for EventCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.hook_names();
        f.debug_struct("EventCenter")
            .field("hooks", &names)
            .finish()
    }
}

/// The one process-wide center, created on first use.
///
/// ```
/// use event_center::Event;
/// event_center::global()
///     .register_hook("doc-global", "billing.*", |e: &Event| println!("{}", e.event_type))
///     .unwrap();
/// event_center::global().emitter("Billing").emit("billing.invoice_created").send();
/// ```
pub fn global() -> &'static EventCenter {
    static GLOBAL: OnceLock<EventCenter> = OnceLock::new();
    GLOBAL.get_or_init(EventCenter::new)
}

impl EventCenter {
    /// A new center with Agently's compatibility tables.
    pub fn new() -> Self {
        EventCenter::builder().build()
    }

    /// An emitter that stamps `source` on its events.
    ///
    /// ```
    /// let center = event_center::EventCenter::new();
    /// let emitter = center.emitter("Billing").with_meta("tenant", "demo");
    /// emitter.emit("billing.invoice_created").send();
    /// ```
    pub fn emitter(&self, source: impl Into<SharedStr>) -> Emitter {
        Emitter::new(self.clone(), source.into())
    }

    /// Whether any hook would receive an event of this type (directly, via an
    /// alias, or via its mirrored twin). A cached answer: a few nanoseconds.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("tools", "tool.*", |_: &Event| {}).unwrap();
    /// assert!(center.is_listened("tool.called"));
    /// assert!(center.is_listened("action.loop_started")); // mirrored as tool.loop_started
    /// assert!(!center.is_listened("model.completed"));
    /// ```
    pub fn is_listened(&self, event_type: &str) -> bool {
        self.inner
            .registry
            .with_resolved(event_type, |r| r.is_listened())
    }

    /// [`is_listened`](EventCenter::is_listened) with the per-thread memo of
    /// silent literal types.
    pub(crate) fn listens_to(&self, event_type: &SharedStr) -> bool {
        self.inner.registry.if_listened(event_type, |_| {})
    }

    /// Emits an Agently-shaped JSON object (the "dict emit"). Only
    /// `event_type` is required; a missing one, an unknown level or a field of
    /// the wrong type is an [`EventError`] naming the field, and nothing is
    /// emitted.
    ///
    /// ```
    /// use event_center::EventCenter;
    /// use serde_json::json;
    ///
    /// let center = EventCenter::new();
    /// center.emit_json(json!({"event_type": "custom.thing", "payload": "just a string"})).unwrap();
    /// let err = center.emit_json(json!({"event_type": "x", "level": "LOUD"})).unwrap_err();
    /// assert_eq!(err.field(), "level");
    /// ```
    pub fn emit_json(&self, value: Value) -> Result<(), EventError> {
        self.emit_event(Event::from_json(value)?);
        Ok(())
    }

    /// [`emit_json`](EventCenter::emit_json), awaiting async hooks.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// center.emit_json_async(serde_json::json!({"event_type": "a.b"})).await.unwrap();
    /// # });
    /// ```
    pub async fn emit_json_async(&self, value: Value) -> Result<(), EventError> {
        self.emit_event_async(Event::from_json(value)?).await;
        Ok(())
    }

    /// Emits a built event as it is (its id and timestamp kept), assigning
    /// its `seq`. For forwarding and replaying events from elsewhere.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.emit_event(Event::new("replayed.event").with_timestamp(1_760_000_000_000));
    /// ```
    pub fn emit_event(&self, event: Event) {
        let event_type = event.event_type.clone();
        emit(&self.inner, &event_type, || event);
    }

    /// [`emit_event`](EventCenter::emit_event), awaiting async hooks.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// center.emit_event_async(event_center::Event::new("a.b")).await;
    /// # });
    /// ```
    pub async fn emit_event_async(&self, event: Event) {
        let event_type = event.event_type.clone();
        emit_async(&self.inner, &event_type, || event).await;
    }
}
