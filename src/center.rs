//! `EventCenter`: the hook registry, the emit entry points, and `global()`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::compat::Compat;
use crate::dispatch::HookEntry;
use crate::dispatch::{deliver, deliver_async};
use crate::emitter::Emitter;
use crate::event::{Event, EventError};
use crate::hook::{HookFn, IntoAsyncHook, IntoHook};
use crate::pattern::{PatternError, PatternSet, Patterns};
use crate::registry::{InsertError, Registry};
use crate::text::SharedStr;

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
}

impl Inner {
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
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
            true,
        )
        .map(|old| old.is_some())
    }

    fn insert(
        &self,
        name: SharedStr,
        patterns: Patterns,
        hook: HookFn,
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
        let entry = HookEntry::new(id, name.clone(), patterns, hook.clone());
        let replaced = self
            .inner
            .registry
            .insert(entry, replace)
            .map_err(|InsertError::Duplicate| error(RegisterErrorKind::DuplicateName))?;
        // Lifecycle callbacks run outside the registry lock, so they may
        // register or unregister hooks themselves.
        if let Some(old) = &replaced {
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
    pub fn emit_event(&self, mut event: Event) {
        let inner = &self.inner;
        let event_type = event.event_type.clone();
        inner.registry.if_listened(&event_type, |resolved| {
            event.seq = inner.next_seq();
            deliver(inner, resolved, Arc::new(event), None);
        });
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
        if let Some(resolved) = self.inner.registry.listened(&event.event_type) {
            event.seq = self.inner.next_seq();
            deliver_async(&self.inner, resolved, Arc::new(event)).await;
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
            .map(|entry| {
                let s = &entry.shared;
                HookStats {
                    name: s.name.to_string(),
                    delivered: s.delivered.load(Ordering::Relaxed),
                    failed: s.failed.load(Ordering::Relaxed),
                    dropped_unregistered: s.dropped_unregistered.load(Ordering::Relaxed),
                    pending: entry
                        .worker
                        .get()
                        .map_or(0, |w| w.pending.load(Ordering::Relaxed)),
                }
            })
            .collect();
        CenterStats {
            hooks,
            hook_failures: self.inner.hook_failures.load(Ordering::Relaxed),
            recursion_cut: self.inner.recursion_cut.load(Ordering::Relaxed),
            last_seq: self.inner.seq.load(Ordering::Relaxed),
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
            }),
        }
    }
}

/// A snapshot of a center's counters; see [`EventCenter::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

/// One hook's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookStats {
    /// The hook's name.
    pub name: String,
    /// Events the hook handled without error.
    pub delivered: u64,
    /// Events on which the hook panicked or returned an error.
    pub failed: u64,
    /// Events queued for the hook's worker that were dropped because the
    /// hook was unregistered first.
    pub dropped_unregistered: u64,
    /// Events queued for the hook's worker and not yet handled.
    pub pending: u64,
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
