//! Registering, replacing and unregistering hooks, and `RegisterError`.

use std::fmt;
use std::sync::Arc;

use crate::delivery::HookOptions;
use crate::hook::{HookFn, IntoAsyncHook, IntoHook};
use crate::hook_entry::HookEntry;
use crate::pattern::{PatternError, PatternSet, Patterns};
use crate::registry::InsertError;
use crate::text::SharedStr;

#[cfg(doc)]
use crate::delivery::Delivery;

use super::*;

impl EventCenter {
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
        .map(|(_, old)| old.is_some())
    }

    pub(super) fn insert(
        &self,
        name: SharedStr,
        patterns: Patterns,
        hook: HookFn,
        options: HookOptions,
        replace: bool,
    ) -> Result<(Arc<HookEntry>, Option<Arc<HookEntry>>), RegisterError> {
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
            .insert(entry.clone(), replace)
            .map_err(|InsertError::Duplicate| error(RegisterErrorKind::DuplicateName))?;
        // Lifecycle callbacks run outside the registry lock, so they may
        // register or unregister hooks themselves.
        if let Some(old) = &replaced {
            self.inner.retire(old);
            old.hook.on_unregister(&name);
        }
        hook.on_register(&name);
        Ok((entry, replaced))
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
