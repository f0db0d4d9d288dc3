//! `EventCenter`: the hook registry, the emit entry points, and `global()`.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::compat::Compat;
use crate::delivery::{Delivery, HookOptions};
use crate::dispatch::{deliver, deliver_async};
use crate::emitter::Emitter;
use crate::event::{Event, EventError};
use crate::hook::{HookFn, IntoAsyncHook, IntoHook};
use crate::hook_entry::{DropReason, HookEntry};
use crate::pattern::{PatternError, PatternSet, Patterns};
use crate::redact::{Redaction, SizeLimit};
use crate::registry::Resolved;
use crate::registry::{InsertError, Registry};
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
    ///
    /// ```
    /// let center = event_center::EventCenter::new();
    /// assert!(center.hook_names().is_empty());
    /// ```
    pub fn new() -> Self {
        EventCenter::builder().build()
    }

    /// A builder, to choose the compatibility tables.
    ///
    /// ```
    /// use event_center::{Compat, EventCenter};
    /// let plain = EventCenter::builder().with_compat(Compat::none()).build();
    /// # let _ = plain;
    /// ```
    pub fn builder() -> EventCenterBuilder {
        EventCenterBuilder {
            compat: Compat::agently(),
            redaction: Redaction::default(),
            size_limit: None,
        }
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

    /// Registers a hook under a unique name for the events `patterns` match.
    ///
    /// `patterns` is a `&str`, an array, slice or `Vec` of strings, or
    /// [`Patterns::All`]; an empty list matches nothing. `hook` is a closure
    /// `|event: &Event| ...` (returning `()` or a `Result`), a [`Hook`]
    /// value, or an `Arc<dyn Hook>`. A name already registered is an error
    /// (see [`replace_hook`](EventCenter::replace_hook)), and so is a bad
    /// pattern.
    ///
    /// [`Hook`]: crate::Hook
    ///
    /// ```
    /// use event_center::{Event, EventCenter, Patterns, RegisterErrorKind};
    ///
    /// let center = EventCenter::new();
    /// center.register_hook("models", ["model.*", "response.*"], |_: &Event| {}).unwrap();
    /// center.register_hook("everything", Patterns::All, |_: &Event| {}).unwrap();
    ///
    /// let dup = center.register_hook("models", "x", |_: &Event| {}).unwrap_err();
    /// assert!(matches!(dup.kind(), RegisterErrorKind::DuplicateName));
    /// let bad = center.register_hook("braces", "model.{a,b}", |_: &Event| {}).unwrap_err();
    /// assert!(bad.to_string().contains("model.{a,b}"));
    /// ```
    pub fn register_hook<M>(
        &self,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
        hook: impl IntoHook<M>,
    ) -> Result<(), RegisterError> {
        self.insert(
            name.into(),
            patterns.into(),
            HookFn::Sync(hook.into_hook()),
            HookOptions::new(),
            false,
        )
        .map(drop)
    }

    /// Registers an async hook: awaited by
    /// [`send_async`](crate::Emit::send_async), run on the hook's own worker
    /// for [`send`](crate::Emit::send). `hook` is a closure
    /// `|event: Arc<Event>| async move { ... }`, an [`AsyncHook`] value or an
    /// `Arc<dyn AsyncHook>`.
    ///
    /// [`AsyncHook`]: crate::AsyncHook
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use event_center::{Event, EventCenter};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = EventCenter::new();
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = seen.clone();
    /// center
    ///     .register_async_hook("async", "model.*", move |_: Arc<Event>| {
    ///         let counter = counter.clone();
    ///         async move { counter.fetch_add(1, Ordering::SeqCst); }
    ///     })
    ///     .unwrap();
    /// center.emitter("Agent").emit("model.completed").send_async().await;
    /// assert_eq!(seen.load(Ordering::SeqCst), 1);
    /// # });
    /// ```
    pub fn register_async_hook<M>(
        &self,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
        hook: impl IntoAsyncHook<M>,
    ) -> Result<(), RegisterError> {
        self.insert(
            name.into(),
            patterns.into(),
            HookFn::Async(hook.into_async_hook()),
            HookOptions::new(),
            false,
        )
        .map(drop)
    }

    /// Registers a hook like [`register_hook`](EventCenter::register_hook),
    /// with its [`Delivery`] and redaction chosen by `options`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
    ///
    /// let center = EventCenter::new();
    /// let slow_sink = |event: &Event| {
    ///     std::thread::sleep(Duration::from_millis(1)); // a file, a socket ...
    ///     let _ = event;
    /// };
    /// let options = HookOptions::new().with_delivery(Delivery::background(1024, Overflow::DropOldest));
    /// center.register_hook_with("sink", "model.*", options, slow_sink).unwrap();
    ///
    /// center.emitter("Agent").emit("model.requested").send(); // returns at once
    /// let report = center.flush(Duration::from_secs(5));
    /// assert_eq!((report.delivered, report.pending), (1, 0));
    /// ```
    pub fn register_hook_with<M>(
        &self,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
        options: HookOptions,
        hook: impl IntoHook<M>,
    ) -> Result<(), RegisterError> {
        self.insert(
            name.into(),
            patterns.into(),
            HookFn::Sync(hook.into_hook()),
            options,
            false,
        )
        .map(drop)
    }

    /// Registers an async hook like
    /// [`register_async_hook`](EventCenter::register_async_hook), with its
    /// [`Delivery`] and redaction chosen by `options`. A queued async hook is
    /// awaited on its worker, never by the emitter.
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::background(256, Overflow::DropNewest));
    /// center
    ///     .register_async_hook_with("exporter", "model.*", options, |event: Arc<Event>| async move {
    ///         let _ = event; // await an HTTP client ...
    ///     })
    ///     .unwrap();
    /// center.emitter("Agent").emit("model.completed").send();
    /// assert_eq!(center.flush(Duration::from_secs(5)).delivered, 1);
    /// ```
    pub fn register_async_hook_with<M>(
        &self,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
        options: HookOptions,
        hook: impl IntoAsyncHook<M>,
    ) -> Result<(), RegisterError> {
        self.insert(
            name.into(),
            patterns.into(),
            HookFn::Async(hook.into_async_hook()),
            options,
            false,
        )
        .map(drop)
    }

    /// Registers a hook, replacing any hook of the same name in its place.
    /// Returns whether one was replaced (its `on_unregister` has run).
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// assert!(!center.replace_hook("sink", "a.*", |_: &Event| {}).unwrap());
    /// assert!(center.replace_hook("sink", "b.*", |_: &Event| {}).unwrap());
    /// assert_eq!(center.hook_names(), vec!["sink"]);
    /// ```
    pub fn replace_hook<M>(
        &self,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
        hook: impl IntoHook<M>,
    ) -> Result<bool, RegisterError> {
        self.insert(
            name.into(),
            patterns.into(),
            HookFn::Sync(hook.into_hook()),
            HookOptions::new(),
            true,
        )
        .map(|old| old.is_some())
    }

    fn insert(
        &self,
        name: SharedStr,
        patterns: Patterns,
        hook: HookFn,
        options: HookOptions,
        replace: bool,
    ) -> Result<Option<Arc<HookEntry>>, RegisterError> {
        let error = |kind| RegisterError {
            name: name.to_string(),
            kind,
        };
        if name.trim().is_empty() {
            return Err(error(RegisterErrorKind::EmptyName));
        }
        let patterns =
            PatternSet::new(patterns).map_err(|e| error(RegisterErrorKind::InvalidPattern(e)))?;
        let id = self.inner.registry.next_hook_id();
        let entry = HookEntry::new(id, name.clone(), patterns, hook.clone(), options);
        let replaced = self
            .inner
            .registry
            .insert(entry, replace)
            .map_err(|InsertError::Duplicate| error(RegisterErrorKind::DuplicateName))?;
        // Lifecycle callbacks run outside the registry lock, so they may
        // register or unregister hooks themselves.
        if let Some(old) = &replaced {
            self.inner.retire(old);
            old.hook.on_unregister(&name);
        }
        hook.on_register(&name);
        Ok(replaced)
    }

    /// Unregisters the hook named `name`; returns whether there was one.
    /// After it returns, no new delivery to that hook starts (events already
    /// queued for an async hook's worker are dropped and counted). Safe to
    /// call from inside any hook, that one included.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("tmp", "a.*", |_: &Event| {}).unwrap();
    /// assert!(center.unregister_hook("tmp"));
    /// assert!(!center.unregister_hook("tmp"));
    /// ```
    pub fn unregister_hook(&self, name: &str) -> bool {
        match self.inner.registry.remove(name) {
            Some(entry) => {
                self.inner.retire(&entry);
                entry.hook.on_unregister(name);
                true
            }
            None => false,
        }
    }

    /// The names of the registered hooks, in registration order.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("a", "x.*", |_: &Event| {}).unwrap();
    /// center.register_hook("b", "y.*", |_: &Event| {}).unwrap();
    /// assert_eq!(center.hook_names(), vec!["a", "b"]);
    /// ```
    pub fn hook_names(&self) -> Vec<String> {
        self.inner
            .registry
            .hooks()
            .iter()
            .map(|entry| entry.shared.name.to_string())
            .collect()
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
        let inner = &self.inner;
        let event_type = event.event_type.clone();
        let capture = crate::capture::active(inner);
        let mut unsent = Some(event);
        inner.registry.if_listened(&event_type, |resolved| {
            let mut event = unsent.take().expect("called once");
            let raw = inner.seal(&mut event, resolved);
            let event = Arc::new(event);
            if let Some(capture) = &capture {
                capture.push(inner, &event);
            }
            deliver(inner, resolved, event, raw, None);
        });
        if let (Some(capture), Some(event)) = (capture, unsent) {
            capture.push_unheard(inner, event);
        }
    }

    /// [`emit_event`](EventCenter::emit_event), awaiting async hooks.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// center.emit_event_async(event_center::Event::new("a.b")).await;
    /// # });
    /// ```
    pub async fn emit_event_async(&self, mut event: Event) {
        let inner = &self.inner;
        let capture = crate::capture::active(inner);
        match inner.registry.listened(&event.event_type) {
            Some(resolved) => {
                let raw = inner.seal(&mut event, &resolved);
                let event = Arc::new(event);
                if let Some(capture) = &capture {
                    capture.push(inner, &event);
                }
                deliver_async(inner, resolved, event, raw).await;
            }
            None => {
                if let Some(capture) = capture {
                    capture.push_unheard(inner, event);
                }
            }
        }
    }

    /// Counters: per hook, and for the center.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("ok", "a.*", |_: &Event| {}).unwrap();
    /// center.emitter("S").emit("a.b").send();
    /// let stats = center.stats();
    /// assert_eq!(stats.hooks[0].name, "ok");
    /// assert_eq!(stats.hooks[0].delivered, 1);
    /// ```
    pub fn stats(&self) -> CenterStats {
        let hooks = self
            .inner
            .registry
            .hooks()
            .iter()
            .map(|e| hook_stats(e))
            .collect();
        CenterStats {
            hooks,
            hook_failures: self.inner.hook_failures.load(Ordering::Relaxed),
            recursion_cut: self.inner.recursion_cut.load(Ordering::Relaxed),
            last_seq: self.inner.seq.load(Ordering::Relaxed),
        }
    }

    /// Waits until every hook's queue is drained and every coalescing buffer
    /// flushed, or until `timeout` has passed, and reports the counts of
    /// every hook with a queue (including unregistered hooks whose workers
    /// are still draining). Events emitted meanwhile are waited for too.
    ///
    /// Called from a hook's own worker, it cannot wait for that worker: the
    /// report then shows its events as pending.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block));
    /// center.register_hook_with("sink", "*", options, |_: &Event| {}).unwrap();
    /// for _ in 0..100 {
    ///     center.emitter("S").emit("a.b").send();
    /// }
    /// let report = center.flush(Duration::from_secs(5));
    /// assert!(report.is_complete());
    /// assert_eq!(report.delivered, 100);
    /// ```
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut hooks = self.inner.queued_hooks();
        loop {
            let tickets: Vec<_> = hooks
                .iter()
                .filter_map(|e| e.worker.get().map(|w| (w, w.ask_flush())))
                .collect();
            let mut drained = true;
            for (worker, ticket) in tickets {
                drained &= worker.wait_flushed(ticket, deadline);
            }
            // Hooks' workers may have emitted meanwhile (failure reports,
            // relays): into hooks that had drained already, or that had no
            // worker yet. Those are flushed in another round.
            for entry in self.inner.queued_hooks() {
                if !hooks.iter().any(|known| Arc::ptr_eq(known, &entry)) {
                    hooks.push(entry);
                }
            }
            let report = FlushReport::of(&hooks, started.elapsed());
            if !drained || report.pending == 0 {
                return report;
            }
        }
    }

    /// [`flush`](EventCenter::flush) from async code: waits on tokio's
    /// blocking pool, not on the calling task's thread.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// let report = center.flush_async(std::time::Duration::from_secs(1)).await;
    /// assert!(report.is_complete());
    /// # });
    /// ```
    pub async fn flush_async(&self, timeout: Duration) -> FlushReport {
        let center = self.clone();
        self.blocking(move || center.flush(timeout)).await
    }

    /// Stops the center's workers: queues stop taking events (an event
    /// offered to a queued hook afterwards is dropped and counted as
    /// `shutdown`), what they hold is delivered and coalescing buffers are
    /// flushed, until `timeout`. The report says what was delivered, failed
    /// and dropped, and what is still pending when the timeout came (those
    /// events are still delivered afterwards if the process lives on).
    /// Inline hooks keep working.
    ///
    /// A program that ends with `shutdown` loses nothing that was accepted
    /// unless the report says so.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_center::{CoalescePolicy, Delivery, Event, EventCenter, HookOptions};
    ///
    /// let center = EventCenter::new();
    /// let options = HookOptions::new().with_delivery(Delivery::coalesce(CoalescePolicy::new()));
    /// center.register_hook_with("ui", "*", options, |_: &Event| {}).unwrap();
    /// let emitter = center.emitter("Model");
    /// for _ in 0..10 {
    ///     emitter.emit("model.response.delta").send(); // buffered
    /// }
    /// let report = center.shutdown(Duration::from_secs(5));
    /// assert_eq!((report.accepted, report.delivered, report.pending), (10, 10, 0));
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> FlushReport {
        let started = Instant::now();
        let deadline = started + timeout;
        self.inner.shut_down.store(true, Ordering::Release);
        let hooks = self.inner.queued_hooks();
        for worker in hooks.iter().filter_map(|e| e.worker.get()) {
            worker.close(DropReason::Shutdown);
        }
        for worker in hooks.iter().filter_map(|e| e.worker.get()) {
            worker.wait_finished(deadline);
        }
        FlushReport::of(&hooks, started.elapsed())
    }

    /// [`shutdown`](EventCenter::shutdown) from async code: waits on tokio's
    /// blocking pool, not on the calling task's thread.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = event_center::EventCenter::new();
    /// let report = center.shutdown_async(std::time::Duration::from_secs(1)).await;
    /// assert_eq!(report.pending, 0);
    /// # });
    /// ```
    pub async fn shutdown_async(&self, timeout: Duration) -> FlushReport {
        let center = self.clone();
        self.blocking(move || center.shutdown(timeout)).await
    }

    /// Runs a wait on tokio's blocking pool; if that is unavailable (a
    /// panicking closure cannot happen here, but a runtime shutting down can
    /// cancel it), reports the counts as they are.
    async fn blocking(&self, wait: impl FnOnce() -> FlushReport + Send + 'static) -> FlushReport {
        let started = Instant::now();
        match tokio::task::spawn_blocking(wait).await {
            Ok(report) => report,
            Err(_) => FlushReport::of(&self.inner.queued_hooks(), started.elapsed()),
        }
    }
}

/// Builds an [`EventCenter`].
///
/// ```
/// use event_center::{Compat, EventCenter, Mirror};
/// let center = EventCenter::builder()
///     .with_compat(Compat::agently().with_mirrors(vec![Mirror::new("action", "tool")]))
///     .build();
/// # let _ = center;
/// ```
#[derive(Clone, Debug)]
pub struct EventCenterBuilder {
    compat: Compat,
    redaction: Redaction,
    size_limit: Option<SizeLimit>,
}

impl EventCenterBuilder {
    /// Sets the compatibility tables (default: [`Compat::agently`]).
    ///
    /// ```
    /// use event_center::{Compat, EventCenter};
    /// let center = EventCenter::builder().with_compat(Compat::none()).build();
    /// # let _ = center;
    /// ```
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }

    /// Sets the redaction applied to every event before any hook sees it
    /// (default: [`Redaction::default`], on; [`Redaction::none`] turns it
    /// off). Hooks registered with
    /// [`HookOptions::with_redaction(false)`](HookOptions::with_redaction)
    /// see events unredacted.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, Redaction};
    ///
    /// let center = EventCenter::builder()
    ///     .with_redaction(Redaction::default().with_key("ssn"))
    ///     .build();
    /// let seen = Arc::new(Mutex::new(None));
    /// let keep = seen.clone();
    /// center
    ///     .register_hook("log", "*", move |e: &Event| *keep.lock().unwrap() = Some(e.payload.clone()))
    ///     .unwrap();
    /// center.emitter("S").emit("user.created").payload(serde_json::json!({"ssn": "123"})).send();
    /// assert_eq!(seen.lock().unwrap().as_ref().unwrap()["ssn"], "[REDACTED]");
    /// ```
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// Truncates oversized string values of every event before any hook
    /// sees it (default: no limit); see [`SizeLimit`].
    ///
    /// ```
    /// use event_center::{EventCenter, SizeLimit};
    /// let center = EventCenter::builder().with_size_limit(SizeLimit::new(4096)).build();
    /// # let _ = center;
    /// ```
    pub fn with_size_limit(mut self, limit: SizeLimit) -> Self {
        self.size_limit = Some(limit);
        self
    }

    /// Builds the center.
    ///
    /// ```
    /// let center = event_center::EventCenter::builder().build();
    /// assert!(center.hook_names().is_empty());
    /// ```
    pub fn build(self) -> EventCenter {
        EventCenter {
            inner: Arc::new(Inner {
                registry: Registry::new(self.compat),
                seq: AtomicU64::new(0),
                recursion_cut: AtomicU64::new(0),
                hook_failures: AtomicU64::new(0),
                redaction: self.redaction,
                size_limit: self.size_limit,
                shut_down: AtomicBool::new(false),
                retired: Mutex::new(Vec::new()),
                typed: Default::default(),
            }),
        }
    }
}

/// A snapshot of a center's counters; see [`EventCenter::stats`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CenterStats {
    /// Per registered hook, in registration order.
    pub hooks: Vec<HookStats>,
    /// Hook failures (panics and errors), all hooks together, including hooks
    /// since unregistered.
    pub hook_failures: u64,
    /// Deliveries cut because hooks emitted from inside hooks deeper than the
    /// recursion bound.
    pub recursion_cut: u64,
    /// The last `seq` assigned.
    pub last_seq: u64,
}

/// One hook's counters. Every event offered to the hook is `accepted`, and
/// ends as exactly one of `delivered`, `failed` or `dropped`; until then it
/// is `pending` (queued, being handled, or in a coalescing buffer). When
/// nothing moves (after a [`flush`](EventCenter::flush)),
/// `accepted == delivered + failed + dropped.total() + pending`.
///
/// Events a coalescing hook received as one summary count one by one.
///
/// ```
/// use event_center::{Event, EventCenter};
/// let center = EventCenter::new();
/// center.register_hook("flaky", "*", |e: &Event| {
///     if e.event_type == "a.bad" { panic!("boom") }
/// }).unwrap();
/// center.emitter("S").emit("a.good").send();
/// center.emitter("S").emit("a.bad").send();
/// let s = &center.stats().hooks[0];
/// assert_eq!((s.accepted, s.delivered, s.failed, s.pending), (2, 1, 1, 0));
/// assert_eq!(s.accepted, s.delivered + s.failed + s.dropped.total() + s.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HookStats {
    /// The hook's name.
    pub name: String,
    /// How the hook receives its events.
    pub delivery: Delivery,
    /// Events offered to the hook.
    pub accepted: u64,
    /// Events the hook handled without error.
    pub delivered: u64,
    /// Events on which the hook panicked or returned an error.
    pub failed: u64,
    /// Events that never reached the hook, by reason.
    pub dropped: Dropped,
    /// Events accepted and not yet delivered, failed or dropped.
    pub pending: u64,
    /// The most events the hook's queue ever held at once.
    pub high_water: u64,
    /// Whether the hook is still registered (a report of
    /// [`flush`](EventCenter::flush) also lists unregistered hooks whose
    /// workers were still draining).
    pub registered: bool,
}

/// Events that never reached a hook, by reason; see [`HookStats`].
///
/// ```
/// let dropped = event_center::Dropped::default();
/// assert_eq!(dropped.total(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The queue was full and the new event was dropped
    /// ([`Overflow::DropNewest`](crate::Overflow::DropNewest)).
    pub queue_full: u64,
    /// Queued events pushed out by newer ones
    /// ([`Overflow::DropOldest`](crate::Overflow::DropOldest)).
    pub evicted: u64,
    /// Queued for a hook that was unregistered or replaced first.
    pub unregistered: u64,
    /// Offered after [`shutdown`](EventCenter::shutdown).
    pub shutdown: u64,
    /// The hook's worker thread could not be started.
    pub worker_unavailable: u64,
}

impl Dropped {
    /// All drops together.
    ///
    /// ```
    /// let mut d = event_center::Dropped::default();
    /// d.evicted = 2;
    /// d.queue_full = 1;
    /// assert_eq!(d.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.queue_full + self.evicted + self.unregistered + self.shutdown + self.worker_unavailable
    }
}

/// What [`flush`](EventCenter::flush) and [`shutdown`](EventCenter::shutdown)
/// report: the counts of every hook with a queue, summed, as they stood when
/// the wait ended.
///
/// ```
/// use std::time::Duration;
/// let report = event_center::EventCenter::new().flush(Duration::from_secs(1));
/// assert!(report.is_complete());
/// assert_eq!(report.accepted, report.delivered + report.failed + report.dropped + report.pending);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Events offered to the hooks.
    pub accepted: u64,
    /// Events the hooks handled without error.
    pub delivered: u64,
    /// Events on which a hook panicked or returned an error.
    pub failed: u64,
    /// Events that never reached their hook (reasons in `hooks`).
    pub dropped: u64,
    /// Events still queued or buffered when the wait ended.
    pub pending: u64,
    /// How long the wait took.
    pub elapsed: Duration,
    /// Per hook with a queue.
    pub hooks: Vec<HookStats>,
}

impl FlushReport {
    fn of(hooks: &[Arc<HookEntry>], elapsed: Duration) -> FlushReport {
        let hooks: Vec<HookStats> = hooks.iter().map(|e| hook_stats(e)).collect();
        let sum = |f: fn(&HookStats) -> u64| hooks.iter().map(f).sum();
        FlushReport {
            accepted: sum(|h| h.accepted),
            delivered: sum(|h| h.delivered),
            failed: sum(|h| h.failed),
            dropped: sum(|h| h.dropped.total()),
            pending: sum(|h| h.pending),
            elapsed,
            hooks,
        }
    }

    /// Whether nothing was pending when the wait ended.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(event_center::EventCenter::new().shutdown(Duration::ZERO).is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.pending == 0
    }
}

fn hook_stats(entry: &HookEntry) -> HookStats {
    let c = &entry.shared.counters;
    let load = |counter: &AtomicU64| counter.load(Ordering::Acquire);
    // Outcomes first, then pending, then accepted: an event settling between
    // the loads can then only make `accepted` look larger, never smaller.
    let dropped = Dropped {
        queue_full: load(&c.queue_full),
        evicted: load(&c.evicted),
        unregistered: load(&c.unregistered),
        shutdown: load(&c.shutdown),
        worker_unavailable: load(&c.worker_unavailable),
    };
    let delivered = load(&c.delivered);
    let failed = load(&c.failed);
    let pending = load(&c.pending);
    HookStats {
        name: entry.shared.name.to_string(),
        delivery: entry.delivery.clone(),
        accepted: load(&c.accepted),
        delivered,
        failed,
        dropped,
        pending,
        high_water: load(&c.high_water),
        registered: entry.shared.is_active(),
    }
}

/// A hook that could not be registered: names the hook and says why.
///
/// ```
/// use event_center::{Event, EventCenter, RegisterErrorKind};
/// let center = EventCenter::new();
/// let err = center.register_hook("bad", "tool.[", |_: &Event| {}).unwrap_err();
/// assert_eq!(err.name(), "bad");
/// assert!(matches!(err.kind(), RegisterErrorKind::InvalidPattern(p) if p.pattern() == "tool.["));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterError {
    name: String,
    kind: RegisterErrorKind,
}

/// Why a hook could not be registered; see [`RegisterError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterErrorKind {
    /// A hook of that name is registered already.
    DuplicateName,
    /// The name is empty or blank.
    EmptyName,
    /// One of the patterns does not compile.
    InvalidPattern(PatternError),
}

impl RegisterError {
    /// The hook's name.
    ///
    /// ```
    /// use event_center::{Event, EventCenter};
    /// let center = EventCenter::new();
    /// center.register_hook("h", "a", |_: &Event| {}).unwrap();
    /// assert_eq!(center.register_hook("h", "a", |_: &Event| {}).unwrap_err().name(), "h");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why it was refused.
    ///
    /// ```
    /// use event_center::{Event, EventCenter, RegisterErrorKind};
    /// let err = EventCenter::new().register_hook(" ", "a", |_: &Event| {}).unwrap_err();
    /// assert_eq!(err.kind(), &RegisterErrorKind::EmptyName);
    /// ```
    pub fn kind(&self) -> &RegisterErrorKind {
        &self.kind
    }
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            RegisterErrorKind::DuplicateName => write!(
                f,
                "a hook named `{name}` is already registered: unregister it first, or use replace_hook"
            ),
            RegisterErrorKind::EmptyName => f.write_str("a hook needs a non-blank name"),
            RegisterErrorKind::InvalidPattern(e) => write!(f, "cannot register hook `{name}`: {e}"),
        }
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RegisterErrorKind::InvalidPattern(e) => Some(e),
            _ => None,
        }
    }
}
