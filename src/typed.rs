//! Typed events (the Smallest.ai Atoms model): a Rust struct is an event
//! type. Its namespaced type string (`myapp.order.created`) is the event
//! type on the wire, the struct serialized is the payload;
//! [`Emitter::emit_typed`] sends one, [`EventCenter::on`] subscribes to one
//! and receives the struct back.
//!
//! Typed events are ordinary events on the wire: pattern hooks, sinks and
//! Agently's clients see them like any other, and events of types nobody
//! declared still reach pattern hooks untouched.

use std::any::{type_name, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::capture;
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions};
use crate::emitter::{Emit, Emitter};
use crate::event::{ErrorInfo, Event, Level};
use crate::hook::{AsyncHook, BoxFuture, Hook, HookResult};
use crate::text::SharedStr;

/// The center's own namespace: no typed event may live in it.
const RESERVED_PREFIX: &str = "event_center.";

/// A Rust type that is an event type of its own, like a custom `SDKEvent`
/// subclass in Smallest.ai Atoms: `EVENT_TYPE` is the event type on the wire,
/// the value serialized with serde is the payload.
///
/// `EVENT_TYPE` is a namespaced type string: dot-separated segments of
/// lowercase ASCII letters, digits and `_`, at least two of them
/// (`myapp.order.created`), outside the center's own `event_center.`
/// namespace. [`EventCenter::on`] refuses a type that breaks these rules with
/// a [`TypedError`] naming the rule. Agently's own event names qualify too: a
/// struct for `action.loop_started` is a typed view of the framework's
/// events.
///
/// Fields the type does not declare are not kept by it, but every hook
/// (typed ones included) still receives the whole [`Event`] with its whole
/// payload; to carry unknown fields through the struct as well, give it a
/// `#[serde(flatten)] extra: serde_json::Map<String, Value>` field.
///
/// ```
/// use event_center::TypedEvent;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct OrderCreated {
///     order_id: String,
///     total_cents: u64,
/// }
///
/// impl TypedEvent for OrderCreated {
///     const EVENT_TYPE: &'static str = "myapp.order.created";
/// }
///
/// assert_eq!(OrderCreated::EVENT_TYPE, "myapp.order.created");
/// ```
pub trait TypedEvent: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The namespaced event type, such as `myapp.order.created`.
    const EVENT_TYPE: &'static str;
}

/// A typed event that could not be registered, sent or received: names the
/// event type, the Rust type and what was wrong.
///
/// ```
/// use event_center::{Event, EventCenter, TypedErrorKind, TypedEvent};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Shouting;
/// impl TypedEvent for Shouting {
///     const EVENT_TYPE: &'static str = "MyApp.Shout";
/// }
///
/// let center = EventCenter::new();
/// let err = center.on::<Shouting>("ears", |_, _| {}).unwrap_err();
/// assert_eq!(err.event_type(), "MyApp.Shout");
/// assert!(err.type_name().ends_with("Shouting"));
/// assert_eq!(err.kind(), &TypedErrorKind::InvalidCharacter('M'));
/// assert!(err.to_string().contains("lowercase"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedError {
    event_type: String,
    type_name: &'static str,
    kind: TypedErrorKind,
}

/// What was wrong with a typed event; see [`TypedError`].
///
/// ```
/// use event_center::{EventCenter, TypedErrorKind, TypedEvent};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Spoof;
/// impl TypedEvent for Spoof {
///     const EVENT_TYPE: &'static str = "event_center.hook_failed";
/// }
///
/// let err = EventCenter::new().on::<Spoof>("s", |_, _| {}).unwrap_err();
/// assert_eq!(err.kind(), &TypedErrorKind::ReservedNamespace);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypedErrorKind {
    /// The event type is empty.
    EmptyEventType,
    /// The event type has a single segment: it needs a namespace
    /// (`myapp.created`, not `created`).
    MissingNamespace,
    /// The event type has an empty segment (a leading, trailing or doubled
    /// `.`).
    EmptySegment,
    /// The event type holds a character other than lowercase ASCII letters,
    /// digits, `_` and the separating `.`.
    InvalidCharacter(char),
    /// The event type is in the center's own `event_center.` namespace.
    ReservedNamespace,
    /// Another Rust type is registered under this event type on this center
    /// (its name is given).
    TypeConflict {
        /// The Rust type already registered under the event type.
        registered: &'static str,
    },
    /// Typed hooks receive one value per event, and a coalescing delivery
    /// hands over summaries of many: use `Inline` or `Background`.
    CoalescedDelivery,
    /// The hook itself could not be registered (a duplicate or blank name).
    Register(RegisterError),
    /// The value could not be serialized to JSON (the serde error); carried
    /// as the `error` of the event [`Emitter::emit_typed`] sends.
    Serialize(String),
    /// The payload does not deserialize into the Rust type (the serde
    /// error).
    Deserialize(String),
}

impl TypedError {
    fn of<T: TypedEvent>(event_type: &str, kind: TypedErrorKind) -> TypedError {
        TypedError {
            event_type: event_type.to_owned(),
            type_name: type_name::<T>(),
            kind,
        }
    }

    /// The event type concerned.
    ///
    /// ```
    /// use event_center::{EventCenter, TypedEvent};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Ping;
    /// impl TypedEvent for Ping { const EVENT_TYPE: &'static str = "ping"; }
    ///
    /// let err = EventCenter::new().on::<Ping>("p", |_, _| {}).unwrap_err();
    /// assert_eq!(err.event_type(), "ping");
    /// ```
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The Rust type concerned, as [`std::any::type_name`] spells it.
    ///
    /// ```
    /// use event_center::{EventCenter, TypedEvent};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Ping;
    /// impl TypedEvent for Ping { const EVENT_TYPE: &'static str = "ping"; }
    ///
    /// let err = EventCenter::new().on::<Ping>("p", |_, _| {}).unwrap_err();
    /// assert_eq!(err.type_name(), std::any::type_name::<Ping>());
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// What was wrong.
    ///
    /// ```
    /// use event_center::{EventCenter, TypedErrorKind, TypedEvent};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Ping;
    /// impl TypedEvent for Ping { const EVENT_TYPE: &'static str = "ping"; }
    ///
    /// let err = EventCenter::new().on::<Ping>("p", |_, _| {}).unwrap_err();
    /// assert_eq!(err.kind(), &TypedErrorKind::MissingNamespace);
    /// ```
    pub fn kind(&self) -> &TypedErrorKind {
        &self.kind
    }

    /// A short, stable name of the kind, set as the `code` of the
    /// [`ErrorInfo`] an event carries.
    fn code(&self) -> &'static str {
        match self.kind {
            TypedErrorKind::EmptyEventType
            | TypedErrorKind::MissingNamespace
            | TypedErrorKind::EmptySegment
            | TypedErrorKind::InvalidCharacter(_) => "typed_event_invalid_type",
            TypedErrorKind::ReservedNamespace => "typed_event_reserved_type",
            TypedErrorKind::TypeConflict { .. } => "typed_event_type_conflict",
            TypedErrorKind::CoalescedDelivery => "typed_event_coalesced_delivery",
            TypedErrorKind::Register(_) => "typed_event_register_failed",
            TypedErrorKind::Serialize(_) => "typed_event_unserializable",
            TypedErrorKind::Deserialize(_) => "typed_event_undeserializable",
        }
    }
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (event_type, rust) = (&self.event_type, self.type_name);
        let rules = "a typed event type is dot-separated segments of lowercase ASCII \
                     letters, digits and `_`, such as `myapp.order.created`";
        match &self.kind {
            TypedErrorKind::EmptyEventType => {
                write!(f, "the event type of `{rust}` is empty: {rules}")
            }
            TypedErrorKind::MissingNamespace => write!(
                f,
                "the event type `{event_type}` of `{rust}` has no namespace: \
                 prefix it with your own, such as `myapp.{event_type}`"
            ),
            TypedErrorKind::EmptySegment => write!(
                f,
                "the event type `{event_type}` of `{rust}` has an empty segment \
                 (a leading, trailing or doubled `.`): {rules}"
            ),
            TypedErrorKind::InvalidCharacter(c) => write!(
                f,
                "the event type `{event_type}` of `{rust}` holds {c:?}, which is not \
                 allowed: {rules}"
            ),
            TypedErrorKind::ReservedNamespace => write!(
                f,
                "the event type `{event_type}` of `{rust}` is in the `event_center.` \
                 namespace, reserved for the center's own events: choose your own \
                 namespace, such as `myapp.`"
            ),
            TypedErrorKind::TypeConflict { registered } => write!(
                f,
                "the event type `{event_type}` is registered for `{registered}` on this \
                 center, so `{rust}` cannot be registered under it: give one of the two \
                 types another event type"
            ),
            TypedErrorKind::CoalescedDelivery => write!(
                f,
                "the typed hook for `{rust}` (`{event_type}`) cannot use coalescing \
                 delivery, which hands over summaries of many events: choose Inline or \
                 Background delivery, or a pattern hook"
            ),
            TypedErrorKind::Register(e) => write!(
                f,
                "cannot register the typed hook for `{rust}` (`{event_type}`): {e}"
            ),
            TypedErrorKind::Serialize(e) => write!(
                f,
                "`{rust}` cannot be serialized as the payload of `{event_type}`: {e}; \
                 the event went out without its payload"
            ),
            TypedErrorKind::Deserialize(e) => write!(
                f,
                "the payload of `{event_type}` does not deserialize into `{rust}`: {e}; \
                 the typed hook was not called (pattern hooks still receive the event)"
            ),
        }
    }
}

impl std::error::Error for TypedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TypedErrorKind::Register(e) => Some(e),
            _ => None,
        }
    }
}

/// Checks a typed event type string against the rules of [`TypedEvent`].
fn check_event_type(event_type: &str) -> Result<(), TypedErrorKind> {
    if event_type.is_empty() {
        return Err(TypedErrorKind::EmptyEventType);
    }
    if let Some(c) = event_type
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '.'))
    {
        return Err(TypedErrorKind::InvalidCharacter(c));
    }
    if event_type.split('.').any(str::is_empty) {
        return Err(TypedErrorKind::EmptySegment);
    }
    if !event_type.contains('.') {
        return Err(TypedErrorKind::MissingNamespace);
    }
    if event_type.starts_with(RESERVED_PREFIX) {
        return Err(TypedErrorKind::ReservedNamespace);
    }
    Ok(())
}

/// Decodes the payload of `event` as a `T`.
fn decode<T: TypedEvent>(event: &Event) -> Result<T, TypedError> {
    T::deserialize(&event.payload).map_err(|e| {
        TypedError::of::<T>(
            &event.event_type,
            TypedErrorKind::Deserialize(e.to_string()),
        )
    })
}

/// Which Rust type each typed event type string stands for, per center.
///
/// A binding outlives the hooks that made it: which Rust type an event type
/// means is a fact of the program, not of one hook.
#[derive(Default)]
pub(crate) struct TypedRegistry {
    bound: Mutex<HashMap<&'static str, Bound>>,
}

/// The Rust type bound to an event type.
struct Bound {
    type_id: TypeId,
    type_name: &'static str,
}

impl TypedRegistry {
    /// Checks `T`'s event type, and that no other Rust type is bound to it,
    /// then calls `register` and, when it succeeds, binds the event type to
    /// `T`. Checking, registering and binding happen under one lock, so two
    /// types racing for one event type cannot both win.
    fn bind<T: TypedEvent>(
        &self,
        register: impl FnOnce() -> Result<(), RegisterError>,
    ) -> Result<(), TypedError> {
        let event_type = T::EVENT_TYPE;
        let error = |kind| TypedError::of::<T>(event_type, kind);
        check_event_type(event_type).map_err(error)?;
        // The guarded map is complete after every statement: a poisoned lock
        // is safe to take.
        let mut bound = self.bound.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(other) = bound.get(event_type) {
            if other.type_id != TypeId::of::<T>() {
                return Err(error(TypedErrorKind::TypeConflict {
                    registered: other.type_name,
                }));
            }
        }
        register().map_err(|e| error(TypedErrorKind::Register(e)))?;
        bound.entry(event_type).or_insert_with(|| Bound {
            type_id: TypeId::of::<T>(),
            type_name: type_name::<T>(),
        });
        Ok(())
    }
}

/// A typed hook: decodes the payload, then calls the closure with the event
/// and the value.
struct TypedHook<T, F> {
    hook: F,
    _type: PhantomData<fn() -> T>,
}

impl<T, F> Hook for TypedHook<T, F>
where
    T: TypedEvent,
    F: Fn(&Event, T) + Send + Sync + 'static,
{
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        let value = decode::<T>(event)?;
        (self.hook)(event, value);
        Ok(())
    }
}

/// An async typed hook: decodes the payload, then awaits the closure's
/// future.
struct TypedAsyncHook<T, F> {
    hook: F,
    _type: PhantomData<fn() -> T>,
}

impl<T, F, Fut> AsyncHook for TypedAsyncHook<T, F>
where
    T: TypedEvent,
    F: Fn(Arc<Event>, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn on_event(&self, event: Arc<Event>) -> BoxFuture<HookResult> {
        match decode::<T>(&event) {
            Ok(value) => {
                let future = (self.hook)(event, value);
                Box::pin(async move {
                    future.await;
                    Ok(())
                })
            }
            Err(error) => Box::pin(async move { Err(error.into()) }),
        }
    }
}

impl EventCenter {
    /// Registers a typed hook under a unique name: it receives the events of
    /// type `T::EVENT_TYPE` with their payload decoded into a `T` (and, as
    /// any hook on that exact name would, its legacy aliases and mirrored
    /// twins under the center's [`Compat`](crate::Compat) tables).
    ///
    /// Refused with a [`TypedError`] when `T`'s event type breaks the rules
    /// of [`TypedEvent`], when another Rust type is registered under the same
    /// event type on this center (registering more hooks for the same type is
    /// fine), or when the name is taken. A payload that does not deserialize
    /// into `T` does not reach the hook: it counts as a failure of the hook
    /// ([`EventCenter::stats`]) and is reported as an
    /// `event_center.hook_failed` event naming the Rust type, the event type
    /// and the serde error. Pattern hooks receive such events as they are.
    ///
    /// Like every hook, a typed hook sees events after redaction: a field
    /// under a secret-looking key arrives masked, and a masked field that is
    /// not a string fails to decode. A trusted hook can opt out with
    /// [`on_with`](EventCenter::on_with) and
    /// [`HookOptions::with_redaction(false)`](HookOptions::with_redaction).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{EventCenter, TypedEvent};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// struct OrderCreated {
    ///     order_id: String,
    ///     total_cents: u64,
    /// }
    /// impl TypedEvent for OrderCreated {
    ///     const EVENT_TYPE: &'static str = "myapp.order.created";
    /// }
    ///
    /// let center = EventCenter::new();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// center
    ///     .on::<OrderCreated>("billing", move |event, order| {
    ///         assert_eq!(event.source, "Shop");
    ///         sink.lock().unwrap().push(order);
    ///     })
    ///     .unwrap();
    ///
    /// let order = OrderCreated { order_id: "A-17".into(), total_cents: 4200 };
    /// center.emitter("Shop").emit_typed(&order).send();
    /// assert_eq!(*seen.lock().unwrap(), [order]);
    /// ```
    pub fn on<T: TypedEvent>(
        &self,
        name: impl Into<SharedStr>,
        hook: impl Fn(&Event, T) + Send + Sync + 'static,
    ) -> Result<(), TypedError> {
        self.on_with::<T>(name, HookOptions::new(), hook)
    }

    /// Registers a typed hook like [`on`](EventCenter::on), with its
    /// [`Delivery`] and redaction chosen by `options`. With
    /// [`Delivery::Background`], decoding happens on the hook's worker, not
    /// in the emitting thread. [`Delivery::Coalesce`] is refused: it hands
    /// over summaries of many events, not one value per event.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use event_center::{Delivery, EventCenter, HookOptions, Overflow, TypedEvent};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct TokensUsed { tokens: u64 }
    /// impl TypedEvent for TokensUsed {
    ///     const EVENT_TYPE: &'static str = "myapp.llm.tokens_used";
    /// }
    ///
    /// let center = EventCenter::new();
    /// let total = Arc::new(AtomicU64::new(0));
    /// let sum = total.clone();
    /// let options = HookOptions::new().with_delivery(Delivery::background(1024, Overflow::Block));
    /// center
    ///     .on_with::<TokensUsed>("meter", options, move |_, used| {
    ///         sum.fetch_add(used.tokens, Ordering::Relaxed);
    ///     })
    ///     .unwrap();
    ///
    /// let emitter = center.emitter("Agent");
    /// emitter.emit_typed(&TokensUsed { tokens: 30 }).send();
    /// emitter.emit_typed(&TokensUsed { tokens: 12 }).send();
    /// center.flush(Duration::from_secs(5));
    /// assert_eq!(total.load(Ordering::Relaxed), 42);
    /// ```
    pub fn on_with<T: TypedEvent>(
        &self,
        name: impl Into<SharedStr>,
        options: HookOptions,
        hook: impl Fn(&Event, T) + Send + Sync + 'static,
    ) -> Result<(), TypedError> {
        if matches!(options.delivery, Delivery::Coalesce { .. }) {
            return Err(TypedError::of::<T>(
                T::EVENT_TYPE,
                TypedErrorKind::CoalescedDelivery,
            ));
        }
        let hook = TypedHook {
            hook,
            _type: PhantomData,
        };
        self.inner
            .typed
            .bind::<T>(|| self.register_hook_with(name, T::EVENT_TYPE, options, hook))
    }

    /// Registers an async typed hook: like [`on`](EventCenter::on), with a
    /// closure returning a future, awaited by
    /// [`send_async`](Emit::send_async) and run on the hook's own worker for
    /// [`send`](Emit::send) (see
    /// [`register_async_hook`](EventCenter::register_async_hook)). The Rust
    /// type is named by the closure's argument, or as `on_async::<T, _>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_center::{Event, EventCenter, TypedEvent};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct CallEnded { seconds: u32 }
    /// impl TypedEvent for CallEnded {
    ///     const EVENT_TYPE: &'static str = "myapp.call.ended";
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = EventCenter::new();
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    /// center
    ///     .on_async("billing", move |_: Arc<Event>, call: CallEnded| {
    ///         let tx = tx.clone();
    ///         async move { tx.send(call.seconds).unwrap() }
    ///     })
    ///     .unwrap();
    /// center.emitter("Agent").emit_typed(&CallEnded { seconds: 95 }).send_async().await;
    /// assert_eq!(rx.recv().await, Some(95));
    /// # });
    /// ```
    pub fn on_async<T, Fut>(
        &self,
        name: impl Into<SharedStr>,
        hook: impl Fn(Arc<Event>, T) -> Fut + Send + Sync + 'static,
    ) -> Result<(), TypedError>
    where
        T: TypedEvent,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hook = TypedAsyncHook {
            hook,
            _type: PhantomData,
        };
        self.inner
            .typed
            .bind::<T>(|| self.register_async_hook(name, T::EVENT_TYPE, hook))
    }
}

impl Emitter {
    /// Starts an event of type `T::EVENT_TYPE` with `value` serialized as its
    /// payload; chain [`Emit`]'s setters and finish with
    /// [`send`](Emit::send) or [`send_async`](Emit::send_async) as for
    /// [`emit`](Emitter::emit).
    ///
    /// Nothing is serialized unless some hook listens to the event type: a
    /// typed event nobody listens to builds nothing and costs what an
    /// unmatched [`emit`](Emitter::emit) with
    /// [`payload_with`](Emit::payload_with) costs (the per-thread answer for
    /// the type, read twice). When someone listens, the event type is
    /// checked against the rules of [`TypedEvent`] and `value` is serialized.
    /// Neither problem panics or loses the event: a value that cannot be
    /// serialized (a map with non-string keys, a failing `Serialize` impl)
    /// goes out with a null payload, and a type string that breaks the rules
    /// goes out as it is; either way the event carries level ERROR and an
    /// [`ErrorInfo`] of type `TypedError` whose message names the Rust type,
    /// the event type and what was wrong (setters chained afterwards may
    /// override the level).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, Level, TypedEvent};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Escalation { reason: String, severity: String }
    /// impl TypedEvent for Escalation {
    ///     const EVENT_TYPE: &'static str = "support.escalation.raised";
    /// }
    ///
    /// let center = EventCenter::new();
    /// let seen = Arc::new(Mutex::new(None));
    /// let keep = seen.clone();
    /// center
    ///     .register_hook("log", "support.*", move |e: &Event| *keep.lock().unwrap() = Some(e.clone()))
    ///     .unwrap();
    ///
    /// let escalation = Escalation { reason: "user is frustrated".into(), severity: "high".into() };
    /// center.emitter("SupportBot").emit_typed(&escalation).level(Level::Warning).send();
    ///
    /// let event = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(event.event_type, "support.escalation.raised");
    /// assert_eq!(event.level, Level::Warning);
    /// assert_eq!(event.payload["severity"], "high");
    /// ```
    #[inline(always)]
    pub fn emit_typed<T: TypedEvent>(&self, value: &T) -> Emit<'_> {
        let event_type = SharedStr::from_static(T::EVENT_TYPE);
        // The per-thread memo first (inlined here, as in `Emit::send`): an
        // event type known to be silent costs no call at all, unless a
        // capture will collect the event.
        let center = self.center();
        let listened =
            !center.inner.registry.known_silent(&event_type) && center.listens_to(&event_type);
        if listened || capture::is_active(&center.inner) {
            typed_payload(self.emit(event_type), value)
        } else {
            self.emit(event_type)
        }
    }
}

/// Serializes `value` as the payload of `emit`, marking the event with the
/// error when its type breaks the rules or the value does not serialize.
#[inline(never)]
fn typed_payload<'a, T: TypedEvent>(emit: Emit<'a>, value: &T) -> Emit<'a> {
    let event_type = T::EVENT_TYPE;
    let (emit, problem) = match serde_json::to_value(value) {
        Ok(payload) => (emit.payload(payload), check_event_type(event_type).err()),
        Err(e) => (emit, Some(TypedErrorKind::Serialize(e.to_string()))),
    };
    match problem {
        None => emit,
        Some(kind) => {
            let error = TypedError::of::<T>(event_type, kind);
            let info = ErrorInfo::from_error(&error).with_code(error.code());
            emit.level(Level::Error).error(info)
        }
    }
}

impl Event {
    /// The payload as a `T` when this event is of `T`'s event type:
    /// `Ok(None)` for events of other types, an error naming the Rust type,
    /// the event type and the serde error when the payload does not decode.
    /// For pattern hooks that see many types (the `isinstance` check of
    /// Smallest.ai Atoms' nodes).
    ///
    /// ```
    /// use event_center::{Event, TypedEvent};
    /// use serde_json::json;
    ///
    /// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    /// struct PaymentFailed { order_id: String }
    /// impl TypedEvent for PaymentFailed {
    ///     const EVENT_TYPE: &'static str = "myapp.payment.failed";
    /// }
    ///
    /// let event = Event::new("myapp.payment.failed").with_payload(json!({"order_id": "A-17"}));
    /// let failed = event.typed::<PaymentFailed>().unwrap();
    /// assert_eq!(failed, Some(PaymentFailed { order_id: "A-17".into() }));
    ///
    /// assert_eq!(Event::new("myapp.other").typed::<PaymentFailed>().unwrap(), None);
    /// let broken = Event::new("myapp.payment.failed").with_payload(json!({"order": 1}));
    /// assert!(broken.typed::<PaymentFailed>().unwrap_err().to_string().contains("order_id"));
    /// ```
    pub fn typed<T: TypedEvent>(&self) -> Result<Option<T>, TypedError> {
        if self.event_type != T::EVENT_TYPE {
            return Ok(None);
        }
        decode::<T>(self).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::{check_event_type, TypedErrorKind};

    #[test]
    fn accepts_namespaced_lowercase_types() {
        for ok in [
            "myapp.order.created",
            "a.b",
            "support.escalation_raised",
            "v2.call.ended",
            "action.loop_started",
        ] {
            assert_eq!(check_event_type(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn names_the_rule_each_bad_type_breaks() {
        for (bad, kind) in [
            ("", TypedErrorKind::EmptyEventType),
            ("created", TypedErrorKind::MissingNamespace),
            ("myapp..created", TypedErrorKind::EmptySegment),
            (".myapp.created", TypedErrorKind::EmptySegment),
            ("myapp.created.", TypedErrorKind::EmptySegment),
            ("MyApp.created", TypedErrorKind::InvalidCharacter('M')),
            ("myapp.order-created", TypedErrorKind::InvalidCharacter('-')),
            ("myapp.order created", TypedErrorKind::InvalidCharacter(' ')),
            ("myapp.*", TypedErrorKind::InvalidCharacter('*')),
            (
                "myapp.caf\u{e9}",
                TypedErrorKind::InvalidCharacter('\u{e9}'),
            ),
            (
                "event_center.hook_failed",
                TypedErrorKind::ReservedNamespace,
            ),
        ] {
            assert_eq!(check_event_type(bad), Err(kind), "{bad:?}");
        }
        // Only the namespace itself is reserved, not names that start alike.
        assert_eq!(check_event_type("event_centers.x"), Ok(()));
    }
}
