//! The center into `tracing`: the hook that re-emits center events as
//! `tracing` events.

use std::sync::Arc;

use tracing::Dispatch;

use super::Bridging;
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::event::{Event, Level};
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::text::SharedStr;

#[cfg(doc)]
use super::layer::EventCenterLayer;

/// A hook that re-emits center events through `tracing`, so an application
/// that logs with `tracing` sees its observation events in the same output.
///
/// Each event becomes a `tracing` event with the target
/// [`TracingHook::TARGET`] (`event_center`, for filters such as
/// `RUST_LOG=event_center=info`), at the matching level (`DEBUG`, `INFO`,
/// `WARNING` as WARN, `ERROR` and `CRITICAL` as ERROR), its message as the
/// message, and the fields `event_type`, `source`, `event_id`, `run_id` (when
/// the event has a run), `error` (the error's type and message, when it has
/// one) and `payload` (its JSON text, when it has one and
/// [`with_payload`](TracingHook::with_payload) is on, the default). The JSON
/// text is written only when a subscriber is interested in the level.
///
/// [`register`](TracingHook::register) is the way to install it: it uses
/// [`Delivery::Background`] (a queue of 4,096 events, the oldest dropped
/// and counted when full), so formatting and writing the log never happen
/// on the emit path. The re-emitted events then come from the hook's
/// worker thread, which sees the global `tracing` subscriber (or the one
/// given to [`with_dispatch`](TracingHook::with_dispatch)), not a scoped
/// one of the emitting thread.
///
/// Events that an [`EventCenterLayer`] made from `tracing` events (marked by
/// their `meta.tracing`) are skipped: they are in the output already. And the
/// events this hook re-emits never come back in through a layer. When a
/// layer feeds the same center, register the hook on the event families it
/// should show (`["model.*", "tool.*"]`) rather than on everything: a hook
/// on `*` listens to every `tracing` event, so the layer would build a
/// center event for each log line, only for this hook to skip it.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use event_center::{EventCenter, Patterns, TracingHook};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// // A layer that records what reaches `tracing` under the bridge's target.
/// struct Record(Arc<Mutex<Vec<String>>>);
/// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Record {
///     fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
///         let line = format!("{} {}", event.metadata().level(), event.metadata().target());
///         self.0.lock().unwrap().push(line);
///     }
/// }
///
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(Record(lines.clone())));
///
/// let center = EventCenter::new();
/// TracingHook::new().with_dispatch(dispatch).register(&center, "tracing", Patterns::All).unwrap();
/// center.emitter("Planner").warning("low budget").send();
/// center.flush(Duration::from_secs(5));
/// assert_eq!(*lines.lock().unwrap(), ["WARN event_center"]);
/// ```
#[derive(Clone, Debug)]
pub struct TracingHook {
    payload: bool,
    options: HookOptions,
    dispatch: Option<Dispatch>,
}

impl Default for TracingHook {
    fn default() -> Self {
        TracingHook::new()
    }
}

/// Re-emits one event at a static level (`tracing`'s macros need one).
macro_rules! reemit {
    ($level:expr, $hook:expr, $event:expr) => {{
        if tracing::enabled!(target: TracingHook::TARGET, $level) {
            let event: &Event = $event;
            let payload = ($hook.payload && !event.payload.is_null())
                .then(|| serde_json::to_string(&event.payload).ok())
                .flatten();
            let run_id = event.run.as_ref().map(|run| run.run_id.as_str());
            let error = event
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.error_type, e.message));
            match &event.message {
                Some(message) => tracing::event!(
                    target: TracingHook::TARGET,
                    $level,
                    event_type = event.event_type.as_str(),
                    source = event.source.as_str(),
                    event_id = %event.event_id,
                    run_id,
                    error = error.as_deref(),
                    payload = payload.as_deref().map(tracing::field::display),
                    "{}",
                    message.as_str()
                ),
                None => tracing::event!(
                    target: TracingHook::TARGET,
                    $level,
                    event_type = event.event_type.as_str(),
                    source = event.source.as_str(),
                    event_id = %event.event_id,
                    run_id,
                    error = error.as_deref(),
                    payload = payload.as_deref().map(tracing::field::display),
                ),
            }
        }
    }};
}

impl TracingHook {
    /// The `tracing` target of the re-emitted events.
    pub const TARGET: &'static str = "event_center";

    /// A hook with payloads on, delivered in the background (a queue of
    /// 4,096 events, [`Overflow::DropOldest`]), into the current `tracing`
    /// subscriber of its worker thread.
    ///
    /// ```
    /// use event_center::{Delivery, TracingHook};
    /// let hook = TracingHook::new();
    /// assert!(matches!(hook.options().delivery(), Delivery::Background { capacity: 4096, .. }));
    /// ```
    pub fn new() -> TracingHook {
        TracingHook {
            payload: true,
            options: HookOptions::new()
                .with_delivery(Delivery::background(4096, Overflow::DropOldest)),
            dispatch: None,
        }
    }

    /// Whether the payload goes out as a `payload` field holding its JSON
    /// text (on by default).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Delivery, EventCenter, TracingHook};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// // Records the field names of each event that reaches `tracing`.
    /// struct Names(Arc<Mutex<Vec<String>>>);
    /// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Names {
    ///     fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
    ///         struct V<'a>(&'a mut Vec<String>);
    ///         impl tracing::field::Visit for V<'_> {
    ///             fn record_debug(&mut self, f: &tracing::field::Field, _: &dyn std::fmt::Debug) {
    ///                 self.0.push(f.name().to_owned());
    ///             }
    ///         }
    ///         event.record(&mut V(&mut self.0.lock().unwrap()));
    ///     }
    /// }
    ///
    /// let names = Arc::new(Mutex::new(Vec::new()));
    /// let subscriber = tracing_subscriber::registry().with(Names(names.clone()));
    /// let center = EventCenter::new();
    /// TracingHook::new()
    ///     .with_payload(false)
    ///     .with_delivery(Delivery::Inline)
    ///     .register(&center, "tracing", "model.*")
    ///     .unwrap();
    /// tracing::subscriber::with_default(subscriber, || {
    ///     center.emitter("Agent").emit("model.completed").payload(serde_json::json!({"tokens": 1})).send();
    /// });
    /// assert_eq!(*names.lock().unwrap(), ["event_type", "source", "event_id"]);
    /// ```
    pub fn with_payload(mut self, payload: bool) -> Self {
        self.payload = payload;
        self
    }

    /// Sets how the hook receives its events. `Delivery::Inline` puts the
    /// re-emitted event next to the application's own logs of the same
    /// thread (inside its spans), at the price of running the subscriber's
    /// formatting and writing on the emit path.
    ///
    /// ```
    /// use event_center::{Delivery, TracingHook};
    /// let hook = TracingHook::new().with_delivery(Delivery::Inline);
    /// assert_eq!(hook.options().delivery(), &Delivery::Inline);
    /// ```
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.options = self.options.with_delivery(delivery);
        self
    }

    /// Sets every registration option at once (delivery and redaction).
    ///
    /// ```
    /// use event_center::{Delivery, HookOptions, Overflow, TracingHook};
    /// let options = HookOptions::new().with_delivery(Delivery::background(64, Overflow::Block));
    /// let hook = TracingHook::new().with_options(options.clone());
    /// assert_eq!(hook.options(), &options);
    /// ```
    pub fn with_options(mut self, options: HookOptions) -> Self {
        self.options = options;
        self
    }

    /// Re-emits into this `tracing` dispatcher instead of the current one of
    /// the delivering thread: for a scoped subscriber, or to send the
    /// center's events to a subscriber of their own.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use event_center::{EventCenter, TracingHook};
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// struct Count(Arc<AtomicUsize>);
    /// impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    ///     fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
    ///         self.0.fetch_add(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let count = Arc::new(AtomicUsize::new(0));
    /// let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(Count(count.clone())));
    /// let center = EventCenter::new();
    /// TracingHook::new().with_dispatch(dispatch).register(&center, "tracing", "tool.*").unwrap();
    /// center.emitter("Agent").emit("tool.called").send();
    /// center.flush(Duration::from_secs(5));
    /// assert_eq!(count.load(Ordering::SeqCst), 1);
    /// ```
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// The options [`register`](TracingHook::register) uses.
    ///
    /// ```
    /// assert!(event_center::TracingHook::new().options().is_redacted());
    /// ```
    pub fn options(&self) -> &HookOptions {
        &self.options
    }

    /// Registers the hook on `center` under `name` for the events `patterns`
    /// match, with its [options](TracingHook::options) (background delivery
    /// unless changed).
    ///
    /// ```
    /// use event_center::{EventCenter, TracingHook};
    /// let center = EventCenter::new();
    /// TracingHook::new().register(&center, "tracing", ["model.*", "tool.*"]).unwrap();
    /// assert_eq!(center.hook_names(), ["tracing"]);
    /// ```
    pub fn register(
        self,
        center: &EventCenter,
        name: impl Into<SharedStr>,
        patterns: impl Into<Patterns>,
    ) -> Result<(), RegisterError> {
        let options = self.options.clone();
        center.register_hook_with(name, patterns, options, self)
    }

    fn reemit(&self, event: &Event) {
        match event.level {
            Level::Debug => reemit!(tracing::Level::DEBUG, self, event),
            Level::Info => reemit!(tracing::Level::INFO, self, event),
            Level::Warning => reemit!(tracing::Level::WARN, self, event),
            Level::Error | Level::Critical => reemit!(tracing::Level::ERROR, self, event),
        }
    }
}

/// Whether an event was made from a `tracing` event by a layer.
fn came_from_tracing(event: &Event) -> bool {
    event
        .meta
        .get("tracing")
        .is_some_and(|origin| origin.get("target").is_some())
}

impl Hook for TracingHook {
    fn on_event(&self, event: &Arc<Event>) -> HookResult {
        if came_from_tracing(event) {
            return Ok(());
        }
        let _bridging = Bridging::enter();
        match &self.dispatch {
            Some(dispatch) => tracing::dispatcher::with_default(dispatch, || self.reemit(event)),
            None => self.reemit(event),
        }
        Ok(())
    }
}
