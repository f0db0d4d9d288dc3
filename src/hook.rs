//! Hooks: the `Hook` and `AsyncHook` traits and the closure adapters.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::event::Event;

/// The error a hook may return; it is caught, counted and reported, never
/// passed to the emitter.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a hook returns.
pub type HookResult = Result<(), BoxError>;

/// A boxed, sendable future, as returned by [`AsyncHook::on_event`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An observer called with each event its patterns match.
///
/// Called in the emitting thread, in registration order, inside
/// `catch_unwind`: a hook that panics or returns an error is counted and
/// reported as an `event_center.hook_failed` event, and the emitter and the
/// other hooks go on. A hook may emit, register and unregister from inside
/// `on_event`.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use event_center::{Event, EventCenter, Hook, HookResult};
///
/// struct Counter(AtomicUsize);
///
/// impl Hook for Counter {
///     fn on_event(&self, _event: &Arc<Event>) -> HookResult {
///         self.0.fetch_add(1, Ordering::Relaxed);
///         Ok(())
///     }
///     fn on_register(&self, name: &str) {
///         println!("{name} registered");
///     }
/// }
///
/// let center = EventCenter::new();
/// let counter = Arc::new(Counter(AtomicUsize::new(0)));
/// center.register_hook("counter", "model.*", counter.clone()).unwrap();
/// center.emitter("Planner").emit("model.completed").send();
/// assert_eq!(counter.0.load(Ordering::Relaxed), 1);
/// ```
pub trait Hook: Send + Sync + 'static {
    /// Handles one event. The `Arc` can be cloned to keep the event.
    fn on_event(&self, event: &Arc<Event>) -> HookResult;

    /// Called once the hook is registered under `name` (Agently's hooker
    /// `_on_register`).
    fn on_register(&self, name: &str) {
        let _ = name;
    }

    /// Called once the hook is unregistered (Agently's hooker `_on_unregister`).
    fn on_unregister(&self, name: &str) {
        let _ = name;
    }
}

/// An observer whose handling is a future.
///
/// [`Emit::send_async`](crate::Emit::send_async) awaits it in the emitting
/// task. [`Emit::send`](crate::Emit::send), which never blocks, hands the
/// event to the hook's own worker thread instead, which awaits the futures
/// one at a time, in emit order.
///
/// ```
/// use std::sync::Arc;
/// use event_center::{AsyncHook, BoxFuture, Event, EventCenter, HookResult};
///
/// struct Forwarder(tokio::sync::mpsc::UnboundedSender<String>);
///
/// impl AsyncHook for Forwarder {
///     fn on_event(&self, event: Arc<Event>) -> BoxFuture<HookResult> {
///         let tx = self.0.clone();
///         Box::pin(async move {
///             tx.send(event.event_type.to_string())?;
///             Ok(())
///         })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let center = EventCenter::new();
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
/// center.register_async_hook("forward", "tool.*", Forwarder(tx)).unwrap();
/// center.emitter("Agent").emit("tool.called").send_async().await;
/// assert_eq!(rx.recv().await.unwrap(), "tool.called");
/// # });
/// ```
pub trait AsyncHook: Send + Sync + 'static {
    /// Handles one event.
    fn on_event(&self, event: Arc<Event>) -> BoxFuture<HookResult>;

    /// Called once the hook is registered under `name`.
    fn on_register(&self, name: &str) {
        let _ = name;
    }

    /// Called once the hook is unregistered.
    fn on_unregister(&self, name: &str) {
        let _ = name;
    }
}

/// What a hook closure may return: `()` or a `Result` whose error converts
/// into [`BoxError`].
///
/// ```
/// use event_center::{Event, EventCenter};
/// let center = EventCenter::new();
/// center.register_hook("unit", "a.*", |_: &Event| {}).unwrap();
/// center
///     .register_hook("fallible", "a.*", |e: &Event| -> Result<(), std::fmt::Error> {
///         let _ = &e.event_type;
///         Ok(())
///     })
///     .unwrap();
/// ```
pub trait HookOutput {
    /// Converts into the hook's result.
    fn into_result(self) -> HookResult;
}

impl HookOutput for () {
    fn into_result(self) -> HookResult {
        Ok(())
    }
}

impl<E: Into<BoxError>> HookOutput for Result<(), E> {
    fn into_result(self) -> HookResult {
        self.map_err(Into::into)
    }
}

/// Anything [`EventCenter::register_hook`](crate::EventCenter::register_hook)
/// accepts: a closure taking `&Event` (annotate its argument:
/// `|event: &Event| ...`), a value implementing [`Hook`], an `Arc` of one
/// (keep a clone to read the hook's state while it is registered, as in
/// [`Hook`]'s example), or an `Arc<dyn Hook>` / `Box<dyn Hook>`. The marker
/// type `M` only tells the implementations apart; it is inferred.
///
/// ```
/// use std::sync::Arc;
/// use event_center::{Event, EventCenter, Hook, HookResult};
///
/// struct Quiet;
/// impl Hook for Quiet {
///     fn on_event(&self, _event: &Arc<Event>) -> HookResult {
///         Ok(())
///     }
/// }
///
/// let center = EventCenter::new();
/// center.register_hook("closure", "*", |e: &Event| println!("{}", e.event_type)).unwrap();
/// center.register_hook("value", "*", Quiet).unwrap();
/// center.register_hook("shared", "*", Arc::new(Quiet)).unwrap();
/// center.register_hook("boxed", "*", Box::new(Quiet) as Box<dyn Hook>).unwrap();
/// assert_eq!(center.stats().hooks.len(), 4);
/// ```
pub trait IntoHook<M>: Sized {
    /// Converts into a shared hook.
    fn into_hook(self) -> Arc<dyn Hook>;
}

/// Marker for closures (see [`IntoHook`]).
#[doc(hidden)]
pub struct ClosureMarker<R>(std::marker::PhantomData<fn() -> R>);
/// Marker for `Hook` values (see [`IntoHook`]).
#[doc(hidden)]
pub struct ValueMarker;
/// Marker for hook trait objects (see [`IntoHook`]).
#[doc(hidden)]
pub struct DynMarker;
/// Marker for shared hook values, `Arc<H>` (see [`IntoHook`]).
#[doc(hidden)]
pub struct SharedMarker;

struct FnHook<F>(F);

impl<F, R> Hook for FnHook<F>
where
    F: Fn(&Event) -> R + Send + Sync + 'static,
    R: HookOutput,
{
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        (self.0)(event).into_result()
    }
}

impl<F, R> IntoHook<ClosureMarker<R>> for F
where
    F: Fn(&Event) -> R + Send + Sync + 'static,
    R: HookOutput,
{
    fn into_hook(self) -> Arc<dyn Hook> {
        Arc::new(FnHook(self))
    }
}

impl<H: Hook> IntoHook<ValueMarker> for H {
    fn into_hook(self) -> Arc<dyn Hook> {
        Arc::new(self)
    }
}

impl IntoHook<DynMarker> for Arc<dyn Hook> {
    fn into_hook(self) -> Arc<dyn Hook> {
        self
    }
}

impl<H: Hook> IntoHook<SharedMarker> for Arc<H> {
    fn into_hook(self) -> Arc<dyn Hook> {
        self
    }
}

impl IntoHook<DynMarker> for Box<dyn Hook> {
    fn into_hook(self) -> Arc<dyn Hook> {
        Arc::from(self)
    }
}

/// Anything [`EventCenter::register_async_hook`](crate::EventCenter::register_async_hook)
/// accepts: a closure taking `Arc<Event>` and returning a future (annotate
/// its argument: `|event: Arc<Event>| async move { ... }`), a value
/// implementing [`AsyncHook`], an `Arc` of one, or an `Arc<dyn AsyncHook>`.
pub trait IntoAsyncHook<M>: Sized {
    /// Converts into a shared async hook.
    fn into_async_hook(self) -> Arc<dyn AsyncHook>;
}

struct AsyncFnHook<F>(F);

impl<F, Fut, R> AsyncHook for AsyncFnHook<F>
where
    F: Fn(Arc<Event>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: HookOutput,
{
    fn on_event(&self, event: Arc<Event>) -> BoxFuture<HookResult> {
        let future = (self.0)(event);
        Box::pin(async move { future.await.into_result() })
    }
}

impl<F, Fut, R> IntoAsyncHook<ClosureMarker<(Fut, R)>> for F
where
    F: Fn(Arc<Event>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: HookOutput,
{
    fn into_async_hook(self) -> Arc<dyn AsyncHook> {
        Arc::new(AsyncFnHook(self))
    }
}

impl<H: AsyncHook> IntoAsyncHook<ValueMarker> for H {
    fn into_async_hook(self) -> Arc<dyn AsyncHook> {
        Arc::new(self)
    }
}

impl<H: AsyncHook> IntoAsyncHook<SharedMarker> for Arc<H> {
    fn into_async_hook(self) -> Arc<dyn AsyncHook> {
        self
    }
}

impl IntoAsyncHook<DynMarker> for Arc<dyn AsyncHook> {
    fn into_async_hook(self) -> Arc<dyn AsyncHook> {
        self
    }
}

/// A registered hook's callable: run inline, or awaited.
#[derive(Clone)]
pub(crate) enum HookFn {
    Sync(Arc<dyn Hook>),
    Async(Arc<dyn AsyncHook>),
}

impl HookFn {
    pub(crate) fn on_register(&self, name: &str) {
        match self {
            HookFn::Sync(h) => h.on_register(name),
            HookFn::Async(h) => h.on_register(name),
        }
    }

    pub(crate) fn on_unregister(&self, name: &str) {
        match self {
            HookFn::Sync(h) => h.on_unregister(name),
            HookFn::Async(h) => h.on_unregister(name),
        }
    }
}
