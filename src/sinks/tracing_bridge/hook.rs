//! The center into `tracing`: the hook that re-emits center events as
//! `tracing` events, and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Dispatch;

use super::guard::TracingGuard;
use super::Bridging;
use crate::center::{EventCenter, RegisterError};
use crate::delivery::{Delivery, HookOptions, Overflow};
use crate::event::{Event, Level};
use crate::hook::{Hook, HookResult};
use crate::pattern::Patterns;
use crate::sinks::registration::{Registration, SinkEnd, DEFAULT_FLUSH_TIMEOUT};

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
/// [`with_payload`](TracingHookBuilder::with_payload) is on, the default).
/// The JSON text is written only when a subscriber is interested in the
/// level.
///
/// [`TracingHook::builder`] sets it up and
/// [`register`](TracingHookBuilder::register) installs it and returns the
/// [`TracingGuard`], its only handle (dropping it drains the hook's queue
/// and unregisters it). It uses [`Delivery::Background`] by default (a
/// queue of 4,096 events, the oldest dropped and counted when full), so
/// formatting and writing the log never happen on the emit path. The
/// re-emitted events then come from the hook's worker thread, which sees
/// the global `tracing` subscriber (or the one given to
/// [`with_dispatch`](TracingHookBuilder::with_dispatch)), not a scoped one
/// of the emitting thread. The hook never fails: it has no error of its
/// own, and registering it can only fail with the center's
/// [`RegisterError`].
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
/// let guard = TracingHook::builder()
///     .with_dispatch(dispatch)
///     .with_patterns(Patterns::All)
///     .register(&center, "tracing")?;
/// center.emitter("Planner").warning("low budget").send();
/// let report = guard.flush(Duration::from_secs(5));
/// assert_eq!((report.delivered, report.pending), (1, 0));
/// assert_eq!(*lines.lock().unwrap(), ["WARN event_center"]);
/// # Ok::<(), event_center::RegisterError>(())
/// ```
pub struct TracingHook {
    payload: bool,
    dispatch: Option<Dispatch>,
}

impl fmt::Debug for TracingHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingHook")
            .field("payload", &self.payload)
            .field("dispatch", &self.dispatch.is_some())
            .finish()
    }
}

/// Builds a [`TracingHook`] and registers it; see [`TracingHook::builder`].
///
/// ```
/// use std::time::Duration;
/// use event_center::{Delivery, EventCenter, Overflow, TracingHook};
///
/// let center = EventCenter::new();
/// let guard = TracingHook::builder()
///     .with_patterns(["model.*", "tool.*"])
///     .with_payload(false)
///     .with_delivery(Delivery::background(1024, Overflow::DropOldest))
///     .with_flush_timeout(Duration::from_secs(1))
///     .register(&center, "tracing")?;
/// assert_eq!(center.hook_names(), ["tracing"]);
/// drop(guard);
/// assert!(center.hook_names().is_empty());
/// # Ok::<(), event_center::RegisterError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until register() is called"]
pub struct TracingHookBuilder {
    payload: bool,
    options: HookOptions,
    dispatch: Option<Dispatch>,
    patterns: Patterns,
    flush_timeout: Duration,
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

    /// A builder for a hook on every event, with payloads on, delivered in
    /// the background (a queue of 4,096 events, [`Overflow::DropOldest`]),
    /// into the current `tracing` subscriber of its worker thread.
    ///
    /// ```
    /// use event_center::{Delivery, TracingHook};
    /// let builder = TracingHook::builder();
    /// assert!(matches!(builder.options().delivery(), Delivery::Background { capacity: 4096, .. }));
    /// ```
    pub fn builder() -> TracingHookBuilder {
        TracingHookBuilder {
            payload: true,
            options: HookOptions::new()
                .with_delivery(Delivery::background(4096, Overflow::DropOldest)),
            dispatch: None,
            patterns: Patterns::All,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
        }
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

impl TracingHookBuilder {
    /// The event types re-emitted (default: every event). Takes what
    /// [`EventCenter::register_hook`] takes; a bad pattern is reported by
    /// [`register`](Self::register). When an [`EventCenterLayer`] feeds the
    /// same center, choose the families to show rather than everything.
    pub fn with_patterns(mut self, patterns: impl Into<Patterns>) -> Self {
        self.patterns = patterns.into();
        self
    }

    /// How long dropping the [`TracingGuard`] waits for the hook's queue
    /// (default 5 s).
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
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
    /// let _guard = TracingHook::builder()
    ///     .with_payload(false)
    ///     .with_delivery(Delivery::Inline)
    ///     .with_patterns("model.*")
    ///     .register(&center, "tracing")
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
    /// let builder = TracingHook::builder().with_delivery(Delivery::Inline);
    /// assert_eq!(builder.options().delivery(), &Delivery::Inline);
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
    /// let builder = TracingHook::builder().with_options(options.clone());
    /// assert_eq!(builder.options(), &options);
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
    /// let guard = TracingHook::builder()
    ///     .with_dispatch(dispatch)
    ///     .with_patterns("tool.*")
    ///     .register(&center, "tracing")
    ///     .unwrap();
    /// center.emitter("Agent").emit("tool.called").send();
    /// guard.flush(Duration::from_secs(5));
    /// assert_eq!(count.load(Ordering::SeqCst), 1);
    /// ```
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// The options [`register`](TracingHookBuilder::register) uses.
    ///
    /// ```
    /// assert!(event_center::TracingHook::builder().options().is_redacted());
    /// ```
    pub fn options(&self) -> &HookOptions {
        &self.options
    }

    /// Registers the hook on `center` under `name` for the events its
    /// [patterns](Self::with_patterns) match, with its
    /// [options](Self::options) (background delivery unless changed), and
    /// returns the guard, its only handle, which drains the hook's queue
    /// and unregisters it when dropped.
    ///
    /// # Errors
    ///
    /// The center's [`RegisterError`]: the name is taken or blank, or a
    /// pattern does not compile.
    ///
    /// ```
    /// use event_center::{EventCenter, RegisterErrorKind, TracingHook};
    /// let center = EventCenter::new();
    /// let guard = TracingHook::builder().with_patterns(["model.*", "tool.*"]).register(&center, "tracing")?;
    /// assert_eq!(center.hook_names(), ["tracing"]);
    /// let err = TracingHook::builder().register(&center, "tracing").unwrap_err();
    /// assert_eq!(err.kind(), &RegisterErrorKind::DuplicateName);
    /// # drop(guard);
    /// # Ok::<(), event_center::RegisterError>(())
    /// ```
    pub fn register(self, center: &EventCenter, name: &str) -> Result<TracingGuard, RegisterError> {
        let hook = TracingHook {
            payload: self.payload,
            dispatch: self.dispatch,
        };
        let registration = Registration::new(
            center,
            name,
            self.patterns,
            self.options,
            hook,
            self.flush_timeout,
        )?;
        Ok(TracingGuard { registration })
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

impl SinkEnd for TracingHook {
    /// Nothing is held beyond the center's queue: each event is re-emitted
    /// as the hook receives it.
    fn flush_own(&self, _deadline: Instant) {}

    fn close(&self, _deadline: Instant) {}
}
