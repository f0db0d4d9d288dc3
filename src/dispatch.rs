//! The emit path and delivery: the one path every emit takes (build, seal,
//! capture, deliver), routing each event to its hooks (inline, or through their
//! workers' queues), calling hooks inside `catch_unwind`, the recursion
//! bound, settling deliveries in the per-hook accounting (kept in
//! `hook_entry`), failure and drop reports, and the action -> tool twins.

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::capture::CaptureBuffer;
use crate::center::Inner;
use crate::event::{now_millis, ErrorInfo, Event, EventId, JsonMap, Level};
use crate::hook::{AsyncHook, BoxError, BoxFuture, Hook, HookFn, HookResult};
use crate::hook_entry::{Due, HookEntry, HookShared};
use crate::registry::Resolved;
use crate::text::SharedStr;
use crate::worker::{Job, Offered, Worker};

/// Deliveries nested deeper than this (a hook emitting from inside a hook
/// emitting from inside a hook ...) are cut and counted.
pub(crate) const MAX_DEPTH: u32 = 32;

/// The event type of failure reports.
pub(crate) const HOOK_FAILED: &str = "event_center.hook_failed";
/// The event type of drop reports.
pub(crate) const EVENTS_DROPPED: &str = "event_center.events_dropped";
const SOURCE: &str = "event_center";

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Marks one level of delivery on this thread for as long as it lives.
struct DepthGuard;

impl DepthGuard {
    /// Whether this thread is at the bound.
    fn at_limit() -> bool {
        DEPTH.with(|depth| depth.get() >= MAX_DEPTH)
    }

    /// Enters one level, or `None` when the bound is reached.
    fn enter() -> Option<DepthGuard> {
        DEPTH.with(|depth| {
            let d = depth.get();
            (d < MAX_DEPTH).then(|| {
                depth.set(d + 1);
                DepthGuard
            })
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl HookEntry {
    /// This hook's worker, started if needed.
    fn worker(&self, inner: &Arc<Inner>) -> &Arc<Worker> {
        self.worker.get_or_init(|| {
            Worker::start(
                inner,
                self.shared.clone(),
                self.hook.clone(),
                &self.delivery,
            )
        })
    }

    /// Queues `event` for this hook's worker, starting it if needed.
    fn enqueue(&self, inner: &Arc<Inner>, event: &Arc<Event>, done: Option<oneshot::Sender<()>>) {
        let worker = self.worker(inner);
        self.shared.accept(1);
        let job = Job {
            event: event.clone(),
            depth: DEPTH.with(Cell::get),
            done,
        };
        if worker.offer(&self.shared, job) == Offered::DroppedReportNow {
            report_drops(inner, &self.shared, Due::Now);
        }
    }

    /// Queues a drop report for this hook's worker, unless its queue is
    /// closed (see [`Worker::offer_report`]).
    fn enqueue_report(&self, inner: &Arc<Inner>, event: &Arc<Event>) {
        let job = Job {
            event: event.clone(),
            depth: DEPTH.with(Cell::get),
            done: None,
        };
        if self.worker(inner).offer_report(&self.shared, job) == Offered::DroppedReportNow {
            report_drops(inner, &self.shared, Due::Now);
        }
    }
}

/// The event a hook sees: the redacted one, or the raw one for hooks that
/// opted out of redaction when redaction changed something.
#[inline]
fn view<'a>(
    entry: &HookEntry,
    event: &'a Arc<Event>,
    raw: Option<&'a Arc<Event>>,
) -> &'a Arc<Event> {
    match raw {
        Some(raw) if !entry.redacted => raw,
        _ => event,
    }
}

/// The emit path, taken by every way of emitting (`Emit::send`,
/// `EventCenter::emit_event` and their async forms): when a hook listens to
/// `event_type`, builds the event with `make`, seals it (`seq`, redaction,
/// size limit), records it in the active capture and delivers it from this
/// thread; when none listens, builds it only for an active capture.
#[inline]
pub(crate) fn emit(inner: &Arc<Inner>, event_type: &SharedStr, make: impl FnOnce() -> Event) {
    let capture = crate::capture::active(inner);
    let mut make = Some(make);
    inner.registry.if_listened(event_type, |resolved| {
        let make = make.take().expect("called once");
        let (event, raw) = seal_and_capture(inner, resolved, capture.as_ref(), make);
        deliver(inner, resolved, event, raw, None);
    });
    if let (Some(capture), Some(make)) = (capture, make) {
        capture.push_unheard(inner, make());
    }
}

/// Builds a listened event, seals it and records it in the active capture;
/// returns it with its unredacted copy (see [`Inner::seal`]).
#[inline]
fn seal_and_capture(
    inner: &Arc<Inner>,
    resolved: &Resolved,
    capture: Option<&Arc<CaptureBuffer>>,
    make: impl FnOnce() -> Event,
) -> (Arc<Event>, Option<Arc<Event>>) {
    let mut event = Arc::new(make());
    let raw = inner.seal(Arc::get_mut(&mut event).expect("unshared"), resolved);
    if let Some(capture) = capture {
        capture.push(inner, &event);
    }
    (event, raw)
}

/// [`emit`], delivering with [`deliver_async`]: async hooks are awaited.
pub(crate) async fn emit_async(
    inner: &Arc<Inner>,
    event_type: &SharedStr,
    make: impl FnOnce() -> Event,
) {
    let capture = crate::capture::active(inner);
    match inner.registry.listened(event_type) {
        Some(resolved) => {
            let (event, raw) = seal_and_capture(inner, &resolved, capture.as_ref(), make);
            deliver_async(inner, resolved, event, raw).await;
        }
        None => {
            if let Some(capture) = capture {
                capture.push_unheard(inner, make());
            }
        }
    }
}

/// Delivers `event` to the resolved hooks from the calling thread: inline
/// sync hooks are called here, everything else is queued for its worker.
/// Then mirrors the twin. `raw` is the unredacted event, when redaction
/// changed it.
pub(crate) fn deliver(
    inner: &Arc<Inner>,
    resolved: &Resolved,
    event: Arc<Event>,
    raw: Option<Arc<Event>>,
    exclude: Option<u64>,
) {
    let Some(_depth) = DepthGuard::enter() else {
        inner.recursion_cut.fetch_add(1, Ordering::Relaxed);
        return;
    };
    for entry in resolved.hooks.iter() {
        if Some(entry.shared.id) == exclude || !entry.shared.is_active() {
            continue;
        }
        let event = view(entry, &event, raw.as_ref());
        match &entry.hook {
            HookFn::Sync(hook) if !entry.is_queued() => call_inline(inner, entry, hook, event),
            _ => entry.enqueue(inner, event, None),
        }
    }
    if let Some(m) = make_twin(resolved, &event, raw.as_ref(), inner) {
        deliver(inner, &m.resolved, m.twin, m.raw, None);
    }
}

/// Calls an inline sync hook. Its event is pending only while the call runs,
/// so it is counted as accepted and then as delivered or failed.
#[inline]
fn call_inline(inner: &Arc<Inner>, entry: &HookEntry, hook: &Arc<dyn Hook>, event: &Arc<Event>) {
    let c = &entry.shared.counters;
    c.accepted.fetch_add(1, Ordering::Relaxed);
    match catch_unwind(AssertUnwindSafe(|| hook.on_event(event))) {
        Ok(Ok(())) => {
            c.delivered.fetch_add(1, Ordering::Relaxed);
        }
        outcome => {
            c.pending.fetch_add(1, Ordering::Relaxed);
            settle(inner, &entry.shared, event, outcome, 1);
        }
    }
}

/// Delivers `event` from an async context: inline sync hooks are called
/// here, inline async hooks awaited in registration order (through the
/// worker when it still has earlier events queued, so the hook sees events in
/// emit order), queued hooks get it on their workers.
pub(crate) async fn deliver_async(
    inner: &Arc<Inner>,
    resolved: Arc<Resolved>,
    event: Arc<Event>,
    raw: Option<Arc<Event>>,
) {
    if DepthGuard::at_limit() {
        inner.recursion_cut.fetch_add(1, Ordering::Relaxed);
        return;
    }
    for entry in resolved.hooks.iter() {
        if !entry.shared.is_active() {
            continue;
        }
        let event = view(entry, &event, raw.as_ref());
        match &entry.hook {
            _ if entry.is_queued() => entry.enqueue(inner, event, None),
            HookFn::Sync(hook) => {
                let _depth = DepthGuard::enter();
                call_inline(inner, entry, hook, event);
            }
            HookFn::Async(hook) => {
                // Earlier events still with the worker: queue behind them.
                let queued = entry.worker.get().is_some()
                    && entry.shared.counters.pending.load(Ordering::Acquire) > 0;
                if queued {
                    let (done, wait) = oneshot::channel();
                    entry.enqueue(inner, event, Some(done));
                    let _ = wait.await;
                } else {
                    entry.shared.accept(1);
                    let outcome = Guarded::new(&**hook, event, None).await;
                    settle(inner, &entry.shared, event, outcome, 1);
                }
            }
        }
    }
    if let Some(m) = make_twin(&resolved, &event, raw.as_ref(), inner) {
        Box::pin(deliver_async(inner, m.resolved, m.twin, m.raw)).await;
    }
}

/// A mirrored event: the twin, its unredacted copy when the primary had
/// one, and the twin's hooks.
struct Mirrored {
    twin: Arc<Event>,
    raw: Option<Arc<Event>>,
    resolved: Arc<Resolved>,
}

/// The twin of `event` (and of its unredacted copy `raw`, with the same id
/// and seq), when `event` is to be mirrored.
fn make_twin(
    resolved: &Resolved,
    event: &Event,
    raw: Option<&Arc<Event>>,
    inner: &Inner,
) -> Option<Mirrored> {
    let twin = resolved.twin.as_ref()?;
    if event.is_compat_twin() {
        return None;
    }
    if let Some(family) = event.meta.get("compat_event_family") {
        if family.as_str() != Some(&*twin.family) {
            return None;
        }
    }
    let mut meta = JsonMap::new();
    meta.insert("compat_event_alias".into(), Value::Bool(true));
    meta.insert(
        "compat_alias_for".into(),
        Value::String(event.event_type.to_string()),
    );
    meta.insert(
        "primary_event_id".into(),
        Value::String(event.event_id.to_string()),
    );
    meta.insert(
        "compat_family".into(),
        Value::String(twin.family.to_string()),
    );
    let meta = Arc::new(meta);
    let event_id = EventId::at_millis(event.timestamp);
    let seq = inner.next_seq();
    let mirror = |of: &Event| {
        Arc::new(Event {
            event_id: event_id.clone(),
            event_type: twin.event_type.clone(),
            source: of.source.clone(),
            level: of.level,
            message: of.message.clone(),
            payload: of.payload.clone(),
            error: of.error.clone(),
            run: of.run.clone(),
            meta: meta.clone(),
            timestamp: of.timestamp,
            seq,
            extra: JsonMap::new(),
        })
    };
    Some(Mirrored {
        twin: mirror(event),
        raw: raw.map(|raw| mirror(raw)),
        resolved: twin.resolved.clone(),
    })
}

/// Settles `count` accepted events by a delivery's outcome and reports a
/// failure.
pub(crate) fn settle(
    inner: &Arc<Inner>,
    hook: &HookShared,
    event: &Event,
    outcome: std::thread::Result<HookResult>,
    count: u64,
) {
    let error = match outcome {
        Ok(Ok(())) => {
            hook.delivered(count);
            return;
        }
        Ok(Err(error)) => ErrorInfo::from_error(&*error),
        Err(panic) => ErrorInfo::from_panic(&*panic),
    };
    hook.failed(count);
    report_failure(inner, hook, event, error);
}

/// Emits `event_center.hook_failed` to every matching hook but the one that
/// failed. Failures while handling the center's own events are counted but
/// not reported again, so two failing hooks cannot feed each other.
fn report_failure(inner: &Arc<Inner>, hook: &HookShared, event: &Event, error: ErrorInfo) {
    inner.hook_failures.fetch_add(1, Ordering::Relaxed);
    if event.event_type.starts_with("event_center.") {
        return;
    }
    emit_report(inner, failure_report(&hook.name, event, error), hook.id);
}

/// The `event_center.hook_failed` report of `hook` failing on `event`.
fn failure_report(hook: &str, event: &Event, error: ErrorInfo) -> Event {
    let message = format!(
        "hook `{hook}` failed on `{}`: {}",
        event.event_type, error.message
    );
    let payload = json!({
        "hook": hook,
        "event_type": &*event.event_type,
        "event_id": event.event_id.to_string(),
    });
    let mut report = Event::new(HOOK_FAILED)
        .with_level(Level::Error)
        .with_message(message)
        .with_payload(payload)
        .with_error(error);
    report.run = event.run.clone();
    report
}

/// Emits one of the center's own reports (source `event_center`) to every
/// hook that listens but `exclude`.
fn emit_report(inner: &Arc<Inner>, mut report: Event, exclude: u64) {
    let resolved = inner.registry.resolved(&report.event_type);
    if !resolved.is_listened() {
        return;
    }
    report.source = SharedStr::from(SOURCE);
    report.seq = inner.next_seq();
    deliver(inner, &resolved, Arc::new(report), None, Some(exclude));
}

/// Emits a drop report about hook `about` to every hook that listens but
/// that one, as [`deliver`] would, with two differences that keep every drop
/// reported exactly once:
///
/// - a queue that is closed refuses the report instead of dropping it: a
///   closed queue can only drop, and a drop of a drop report would need a
///   report of its own, which the other closed queues would drop in turn,
///   without end (two workers' final reports crossing at shutdown);
/// - the report is never cut by the depth bound: it is the only record of
///   those drops (hooks it reaches at the bound have their own emits cut).
///
/// The center's own reports have no compatibility twin.
fn emit_drop_report(inner: &Arc<Inner>, mut report: Event, about: u64) {
    let resolved = inner.registry.resolved(&report.event_type);
    if !resolved.is_listened() {
        return;
    }
    report.source = SharedStr::from(SOURCE);
    report.seq = inner.next_seq();
    let report = Arc::new(report);
    let _depth = DepthGuard::enter();
    for entry in resolved.hooks.iter() {
        if entry.shared.id == about || !entry.shared.is_active() {
            continue;
        }
        match &entry.hook {
            HookFn::Sync(hook) if !entry.is_queued() => call_inline(inner, entry, hook, &report),
            _ => entry.enqueue_report(inner, &report),
        }
    }
}

/// Reports `hook`'s unreported drops as one `event_center.events_dropped`
/// event, if one is `due`.
pub(crate) fn report_drops(inner: &Arc<Inner>, hook: &HookShared, due: Due) {
    if let Some(report) = drop_report(hook, due) {
        emit_drop_report(inner, report, hook.id);
    }
}

/// Takes `hook`'s unreported drops, if a report is `due`, and builds their
/// `event_center.events_dropped` report; `None` when there is nothing to
/// report (a sealing take seals all the same).
pub(crate) fn drop_report(hook: &HookShared, due: Due) -> Option<Event> {
    let c = &hook.counters;
    let dropped = match due {
        Due::Paced => {
            if c.unreported.pending() == 0
                || hook.since_last_report() < crate::worker::DROP_REPORT_INTERVAL
            {
                return None;
            }
            c.unreported.take()
        }
        Due::Final => c.unreported.seal(),
        Due::Now => c.unreported.take(),
    };
    if dropped == 0 {
        return None;
    }
    c.last_report.store(now_millis(), Ordering::Relaxed);
    let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let report = Event::new(EVENTS_DROPPED)
        .with_level(Level::Warning)
        .with_message(format!("hook `{}` dropped {dropped} events", hook.name))
        .with_payload(json!({
            "hook": &*hook.name,
            "dropped": dropped,
            "total": {
                "queue_full": count(&c.queue_full),
                "evicted": count(&c.evicted),
                "unregistered": count(&c.unregistered),
                "shutdown": count(&c.shutdown),
                "worker_unavailable": count(&c.worker_unavailable),
            },
        }));
    Some(report)
}

/// Calls a queued hook on its worker thread with `event`, at the delivery
/// depth of the emit that queued it.
pub(crate) fn call_on_worker(
    callable: &HookFn,
    runtime: Option<&tokio::runtime::Runtime>,
    event: &Arc<Event>,
    depth: u32,
) -> std::thread::Result<HookResult> {
    match (callable, runtime) {
        (HookFn::Sync(callable), _) => {
            let outer = DEPTH.with(|d| d.replace(depth));
            let outcome = {
                let _depth = DepthGuard::enter();
                catch_unwind(AssertUnwindSafe(|| callable.on_event(event)))
            };
            DEPTH.with(|d| d.set(outer));
            outcome
        }
        (HookFn::Async(callable), Some(runtime)) => {
            runtime.block_on(Guarded::new(&**callable, event, Some(depth)))
        }
        (HookFn::Async(_), None) => Ok(Err(BoxError::from(
            "the async hook's worker could not start its runtime",
        ))),
    }
}

/// Calls an async hook and runs its future, with panics caught (in the call
/// that makes the future and in every poll) and the depth bound applied. On
/// a worker, `base` is the depth of the emit that queued the event, so a hook
/// that re-emits through its own queue is cut too.
struct Guarded<'a> {
    hook: &'a dyn AsyncHook,
    event: &'a Arc<Event>,
    future: Option<BoxFuture<HookResult>>,
    base: Option<u32>,
}

impl<'a> Guarded<'a> {
    fn new(hook: &'a dyn AsyncHook, event: &'a Arc<Event>, base: Option<u32>) -> Self {
        Guarded {
            hook,
            event,
            future: None,
            base,
        }
    }
}

impl Future for Guarded<'_> {
    type Output = std::thread::Result<HookResult>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let outer = this
            .base
            .map(|base| DEPTH.with(|depth| depth.replace(base)));
        let polled = {
            let _depth = DepthGuard::enter();
            catch_unwind(AssertUnwindSafe(|| {
                let (hook, event) = (this.hook, this.event);
                let future = this
                    .future
                    .get_or_insert_with(|| hook.on_event(event.clone()));
                future.as_mut().poll(cx)
            }))
        };
        if let Some(outer) = outer {
            DEPTH.with(|depth| depth.set(outer));
        }
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Reports a verdict hook (a decision point's hook) that failed while the
/// decision `event` was being taken, as `event_center.hook_failed` with the
/// payload of `report_failure`, and counts it with the other hook failures.
/// Verdict hooks are not observation hooks, so no observation hook is
/// excluded from the report.
pub(crate) fn report_verdict_failure(
    inner: &Arc<Inner>,
    hook: &str,
    event: &Event,
    error: ErrorInfo,
) {
    inner.hook_failures.fetch_add(1, Ordering::Relaxed);
    // Hook ids start at 1: excluding 0 excludes nobody.
    emit_report(inner, failure_report(hook, event, error), 0);
}
