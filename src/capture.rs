//! Scoped capture (the Weni tool model): the events one execution emits,
//! handed back when it ends, and nothing else.
//!
//! A capture is one more field of the task scope that carries the current
//! run ([`TaskScope`]): a buffer that knows its center. The emit paths ask
//! for the active capture only when a per-thread counter says that some
//! capture scope is being polled (or run, for the closure form) on this
//! thread, so an emit outside any capture costs one thread-local read more,
//! and only on the path where nobody listens.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;

use crate::center::{EventCenter, Inner};
use crate::event::Event;
use crate::registry::Resolved;
use crate::run::TaskScope;

/// What a capture scope returns: the scope's output and the events emitted
/// inside it, in emission order; see [`EventCenter::capture`].
///
/// ```
/// use event_center::{Captured, EventCenter};
///
/// let center = EventCenter::new();
/// let emitter = center.emitter("Tool");
/// let captured: Captured<u32> = center.capture_sync(|| {
///     emitter.emit("order.placed").send();
///     42
/// });
/// assert_eq!(captured.output, 42);
/// assert_eq!(captured.events[0].event_type, "order.placed");
/// let (output, events) = captured.into_parts();
/// assert_eq!((output, events.len()), (42, 1));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Captured<T> {
    /// What the scope returned.
    pub output: T,
    /// The events emitted inside the scope, in emission order (their `seq`
    /// order), as the center's hooks see them: sealed, size-limited and
    /// redacted.
    pub events: Vec<Arc<Event>>,
}

impl<T> Captured<T> {
    /// The output and the events.
    ///
    /// ```
    /// let center = event_center::EventCenter::new();
    /// let (output, events) = center.capture_sync(|| "done").into_parts();
    /// assert_eq!(output, "done");
    /// assert!(events.is_empty());
    /// ```
    pub fn into_parts(self) -> (T, Vec<Arc<Event>>) {
        (self.output, self.events)
    }
}

impl EventCenter {
    /// Runs `future` as one execution and returns its output with exactly
    /// the events it emitted on this center, in emission order.
    ///
    /// Collected: events emitted in the future itself and in tasks it starts
    /// through [`spawn`](crate::spawn) and [`spawn_blocking`](crate::spawn_blocking)
    /// (until the capture ends: await them inside it), by any emit path
    /// ([`Emit::send`](crate::Emit::send), [`Emit::send_async`](crate::Emit::send_async),
    /// [`emit_event`](EventCenter::emit_event), [`emit_json`](EventCenter::emit_json)
    /// and their async forms), whether or not a hook listens, and events
    /// emitted by inline hooks called from those emits. Never collected:
    /// events of other centers, of unrelated tasks (a plain `tokio::spawn`),
    /// of hooks running on their own workers, the center's own reports
    /// (`event_center.*`) and the `tool.*` twins of mirrored `action.*`
    /// events. Nothing is carried over from one capture to the next.
    ///
    /// Captures nest: an event belongs to the innermost capture and to
    /// every enclosing capture on the same center, so an outer execution
    /// still holds all of its events.
    ///
    /// A panic in `future` propagates like any panic and its events are
    /// dropped; use [`capture_unwind`](EventCenter::capture_unwind) to get
    /// them back. An error is just an output: a `Result` comes back with
    /// the events either way. The returned future is `Send` when `future` is.
    ///
    /// ```
    /// use event_center::EventCenter;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = EventCenter::new();
    /// let emitter = center.emitter("Tool");
    /// emitter.emit("before.capture").send(); // outside: not collected
    /// let captured = center
    ///     .capture(async {
    ///         emitter.emit("order.placed").payload(serde_json::json!({"id": 7})).send();
    ///         let child = emitter.clone();
    ///         event_center::spawn(async move { child.emit("order.shipped").send() }).await.unwrap();
    ///         Err::<(), _>("payment declined")
    ///     })
    ///     .await;
    /// assert_eq!(captured.output, Err("payment declined"));
    /// let types: Vec<_> = captured.events.iter().map(|e| e.event_type.as_str()).collect();
    /// assert_eq!(types, ["order.placed", "order.shipped"]);
    /// assert_eq!(captured.events[0].payload["id"], 7);
    /// # });
    /// ```
    pub fn capture<F: Future>(
        &self,
        future: F,
    ) -> impl Future<Output = Captured<F::Output>> + use<F> {
        let (scope, buffer) = self.capture_scope();
        async move {
            let closing = Closing(buffer);
            let output = crate::run::enter(scope, future).await;
            Captured {
                output,
                events: closing.take(),
            }
        }
    }

    /// [`capture`](EventCenter::capture) that also catches a panic of
    /// `future`: the output is `Ok` with the future's output or `Err` with
    /// the panic's payload (as [`std::panic::catch_unwind`] gives it; pass
    /// it to [`std::panic::resume_unwind`] to go on panicking), and the
    /// events emitted before the panic come back either way.
    ///
    /// Like a task's `JoinHandle` in tokio, it asks for no `UnwindSafe`
    /// bound: state the future shared with others may be left half-updated
    /// by the panic.
    ///
    /// ```
    /// use event_center::EventCenter;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let center = EventCenter::new();
    /// let emitter = center.emitter("Tool");
    /// let captured = center
    ///     .capture_unwind(async {
    ///         emitter.emit("lookup.started").send();
    ///         if emitter.source() == "Tool" {
    ///             panic!("lookup failed");
    ///         }
    ///     })
    ///     .await;
    /// let payload = captured.output.unwrap_err();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"lookup failed"));
    /// assert_eq!(captured.events[0].event_type, "lookup.started");
    /// # });
    /// ```
    pub fn capture_unwind<F: Future>(
        &self,
        future: F,
    ) -> impl Future<Output = Captured<std::thread::Result<F::Output>>> + use<F> {
        let (scope, buffer) = self.capture_scope();
        async move {
            let closing = Closing(buffer);
            let mut future = pin!(crate::run::enter(scope, future));
            let output =
                poll_fn(
                    |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                        Ok(Poll::Pending) => Poll::Pending,
                        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                        Err(panic) => Poll::Ready(Err(panic)),
                    },
                )
                .await;
            Captured {
                output,
                events: closing.take(),
            }
        }
    }

    /// Runs a closure as one execution and returns its output with exactly
    /// the events it emitted on this center: the synchronous form of
    /// [`capture`](EventCenter::capture), with the same rules.
    ///
    /// To keep the events of a closure that may panic, catch the panic
    /// inside the scope, as below.
    ///
    /// ```
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    /// use event_center::EventCenter;
    ///
    /// let center = EventCenter::new();
    /// let emitter = center.emitter("Tool");
    /// let captured = center.capture_sync(|| {
    ///     catch_unwind(AssertUnwindSafe(|| {
    ///         emitter.emit("step.one").send();
    ///         let empty: Vec<u8> = Vec::new();
    ///         empty[0] // panics
    ///     }))
    /// });
    /// assert!(captured.output.is_err());
    /// assert_eq!(captured.events.len(), 1);
    /// assert!(center.capture_sync(|| ()).events.is_empty());
    /// ```
    pub fn capture_sync<R>(&self, f: impl FnOnce() -> R) -> Captured<R> {
        let (scope, buffer) = self.capture_scope();
        let closing = Closing(buffer);
        let output = crate::run::enter_sync(scope, f);
        Captured {
            output,
            events: closing.take(),
        }
    }

    /// The caller's task scope with a new capture on this center, whose
    /// parent is the caller's capture (if any).
    fn capture_scope(&self) -> (TaskScope, Arc<CaptureBuffer>) {
        let mut scope = TaskScope::current();
        let buffer = Arc::new(CaptureBuffer {
            center: Arc::downgrade(&self.inner),
            events: Mutex::new(Some(Vec::new())),
            parent: scope.capture.take(),
        });
        scope.capture = Some(buffer.clone());
        (scope, buffer)
    }
}

/// The events of one capture scope. `None` once the scope has ended: later
/// events of tasks it started are not kept.
pub(crate) struct CaptureBuffer {
    /// The center whose events it collects. A weak reference keeps the
    /// address from being reused while the buffer lives.
    center: Weak<Inner>,
    events: Mutex<Option<Vec<Arc<Event>>>>,
    /// The enclosing capture, which collects the same events (when on the
    /// same center).
    parent: Option<Arc<CaptureBuffer>>,
}

impl CaptureBuffer {
    fn belongs_to(&self, inner: &Arc<Inner>) -> bool {
        std::ptr::eq(self.center.as_ptr(), Arc::as_ptr(inner))
    }

    /// This capture and the ones enclosing it, innermost first.
    fn chain(&self) -> impl Iterator<Item = &CaptureBuffer> {
        std::iter::successors(Some(self), |b| b.parent.as_deref())
    }

    fn collects_for(&self, inner: &Arc<Inner>) -> bool {
        self.chain().any(|b| b.belongs_to(inner))
    }

    /// Adds a sealed event of `inner` to every open capture of the chain on
    /// that center.
    pub(crate) fn push(&self, inner: &Arc<Inner>, event: &Arc<Event>) {
        for buffer in self.chain().filter(|b| b.belongs_to(inner)) {
            let mut events = buffer.events.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(events) = events.as_mut() {
                events.push(event.clone());
            }
        }
    }

    /// Seals an event that no hook listens to, as the center seals every
    /// event (seq, size limit, redaction), and adds it.
    pub(crate) fn push_unheard(&self, inner: &Arc<Inner>, mut event: Event) {
        inner.seal(&mut event, &Resolved::default());
        self.push(inner, &Arc::new(event));
    }

    /// Ends the capture: its events in `seq` order (events pushed by
    /// concurrent tasks of one scope may land out of order).
    fn close(&self) -> Vec<Arc<Event>> {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let mut events = events.take().unwrap_or_default();
        events.sort_by_key(|e| e.seq);
        events
    }
}

/// Closes a capture when its scope ends, however it ends (returned,
/// panicked, or dropped before completion).
struct Closing(Arc<CaptureBuffer>);

impl Closing {
    fn take(self) -> Vec<Arc<Event>> {
        self.0.close()
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.close();
    }
}

std::thread_local! {
    /// How many capture scopes are being polled (or run) on this thread.
    static POLLING: Cell<usize> = const { Cell::new(0) };
}

/// Counts a capture scope as being polled on this thread while it lives
/// (restored on unwind too).
pub(crate) struct Polling(());

impl Polling {
    pub(crate) fn enter() -> Polling {
        POLLING.with(|n| n.set(n.get() + 1));
        Polling(())
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        POLLING.with(|n| n.set(n.get() - 1));
    }
}

/// Whether some capture scope may be active on this thread: the one check an
/// emit nobody listens to pays outside any capture.
#[inline(always)]
pub(crate) fn maybe_capturing() -> bool {
    POLLING.with(|n| n.get() != 0)
}

/// The capture that collects the events `inner` emits here, if any.
#[inline]
pub(crate) fn active(inner: &Arc<Inner>) -> Option<Arc<CaptureBuffer>> {
    if maybe_capturing() {
        active_in_scope(inner)
    } else {
        None
    }
}

#[inline(never)]
fn active_in_scope(inner: &Arc<Inner>) -> Option<Arc<CaptureBuffer>> {
    TaskScope::current_capture().filter(|buffer| buffer.collects_for(inner))
}

/// Whether a capture collects the events `inner` emits here (no reference
/// count taken).
pub(crate) fn is_active(inner: &Arc<Inner>) -> bool {
    maybe_capturing() && TaskScope::current_capture_is(|buffer| buffer.collects_for(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_is_restored_after_a_panicking_closure() {
        let center = EventCenter::new();
        let emitter = center.emitter("T");
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            center.capture_sync(|| {
                assert!(maybe_capturing());
                emitter.emit("a.b").send();
                panic!("boom");
            })
        }));
        assert!(outcome.is_err());
        assert!(!maybe_capturing());
        assert!(active(&center.inner).is_none());
    }

    #[test]
    fn a_capture_on_one_center_ignores_another() {
        let (a, b) = (EventCenter::new(), EventCenter::new());
        let captured = a.capture_sync(|| {
            assert!(is_active(&a.inner));
            assert!(!is_active(&b.inner));
            b.emitter("B").emit("b.event").send();
            a.emitter("A").emit("a.event").send();
        });
        let types: Vec<_> = captured
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(types, ["a.event"]);
    }

    #[test]
    fn capture_futures_are_send_when_theirs_are() {
        fn assert_send<T: Send>(_: &T) {}
        let center = EventCenter::new();
        assert_send(&center.capture(async {}));
        assert_send(&center.capture_unwind(async {}));
    }

    #[test]
    fn events_after_the_scope_ended_are_not_kept() {
        let center = EventCenter::new();
        let (scope, buffer) = center.capture_scope();
        let closing = Closing(buffer.clone());
        assert!(closing.take().is_empty());
        crate::run::enter_sync(scope, || center.emitter("S").emit("late.event").send());
        assert!(buffer.close().is_empty());
    }
}
