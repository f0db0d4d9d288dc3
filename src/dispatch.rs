//! Delivery: calling hooks inside `catch_unwind`, the recursion bound,
//! failure reports, the action -> tool twins, and the worker that awaits async
//! hooks for the synchronous emit path.

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::center::Inner;
use crate::event::{ErrorInfo, Event, EventId, JsonMap, Level};
use crate::hook::{AsyncHook, BoxFuture, HookFn, HookResult};
use crate::pattern::PatternSet;
use crate::registry::Resolved;
use crate::text::SharedStr;

/// Deliveries nested deeper than this (a hook emitting from inside a hook
/// emitting from inside a hook ...) are cut and counted.
pub(crate) const MAX_DEPTH: u32 = 32;

/// The event type of failure reports.
pub(crate) const HOOK_FAILED: &str = "event_center.hook_failed";
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

/// Counters and state shared by a hook's entry and its worker.
pub(crate) struct HookShared {
    pub(crate) id: u64,
    pub(crate) name: SharedStr,
    /// False once unregistered: checked before every delivery starts.
    pub(crate) active: AtomicBool,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped_unregistered: AtomicU64,
}

impl HookShared {
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }
}

pub(crate) struct HookEntry {
    pub(crate) shared: Arc<HookShared>,
    pub(crate) patterns: PatternSet,
    pub(crate) hook: HookFn,
    /// The worker that awaits an async hook for the synchronous emit path,
    /// started on first use.
    pub(crate) worker: OnceLock<AsyncWorker>,
}

impl HookEntry {
    pub(crate) fn new(
        id: u64,
        name: SharedStr,
        patterns: PatternSet,
        hook: HookFn,
    ) -> Arc<HookEntry> {
        Arc::new(HookEntry {
            shared: Arc::new(HookShared {
                id,
                name,
                active: AtomicBool::new(true),
                delivered: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped_unregistered: AtomicU64::new(0),
            }),
            patterns,
            hook,
            worker: OnceLock::new(),
        })
    }
}

/// Delivers `event` to the resolved hooks in the calling thread: sync hooks
/// inline, async hooks through their workers. Then mirrors the twin.
pub(crate) fn deliver(
    inner: &Arc<Inner>,
    resolved: &Resolved,
    event: Arc<Event>,
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
        match &entry.hook {
            HookFn::Sync(hook) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| hook.on_event(&event)));
                settle(inner, &entry.shared, &event, outcome);
            }
            HookFn::Async(hook) => enqueue(inner, entry, hook, &event, None),
        }
    }
    if let Some((twin, resolved)) = make_twin(resolved, &event, inner) {
        deliver(inner, &resolved, twin, None);
    }
}

/// Delivers `event` from an async context: sync hooks inline, async hooks
/// awaited in registration order (through the worker when it still has
/// earlier events queued, so the hook sees events in emit order).
pub(crate) async fn deliver_async(inner: &Arc<Inner>, resolved: Arc<Resolved>, event: Arc<Event>) {
    if DepthGuard::at_limit() {
        inner.recursion_cut.fetch_add(1, Ordering::Relaxed);
        return;
    }
    for entry in resolved.hooks.iter() {
        if !entry.shared.is_active() {
            continue;
        }
        match &entry.hook {
            HookFn::Sync(hook) => {
                let _depth = DepthGuard::enter();
                let outcome = catch_unwind(AssertUnwindSafe(|| hook.on_event(&event)));
                settle(inner, &entry.shared, &event, outcome);
            }
            HookFn::Async(hook) => {
                let queued = entry
                    .worker
                    .get()
                    .is_some_and(|w| w.pending.load(Ordering::Acquire) > 0);
                if queued {
                    let (done, wait) = oneshot::channel();
                    enqueue(inner, entry, hook, &event, Some(done));
                    let _ = wait.await;
                } else {
                    let outcome = Guarded::new(&**hook, &event, None).await;
                    settle(inner, &entry.shared, &event, outcome);
                }
            }
        }
    }
    if let Some((twin, resolved)) = make_twin(&resolved, &event, inner) {
        Box::pin(deliver_async(inner, resolved, twin)).await;
    }
}

/// The twin event and its hooks, when `event` is to be mirrored.
fn make_twin(
    resolved: &Resolved,
    event: &Event,
    inner: &Inner,
) -> Option<(Arc<Event>, Arc<Resolved>)> {
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
    let mirrored = Event {
        event_id: EventId::at_millis(event.timestamp),
        event_type: twin.event_type.clone(),
        source: event.source.clone(),
        level: event.level,
        message: event.message.clone(),
        payload: event.payload.clone(),
        error: event.error.clone(),
        run: event.run.clone(),
        meta: Arc::new(meta),
        timestamp: event.timestamp,
        seq: inner.next_seq(),
        extra: JsonMap::new(),
    };
    Some((Arc::new(mirrored), twin.resolved.clone()))
}

/// Counts a delivery's outcome and reports a failure.
fn settle(
    inner: &Arc<Inner>,
    hook: &HookShared,
    event: &Event,
    outcome: std::thread::Result<HookResult>,
) {
    let error = match outcome {
        Ok(Ok(())) => {
            hook.delivered.fetch_add(1, Ordering::Relaxed);
            return;
        }
        Ok(Err(error)) => ErrorInfo::from_error(&*error),
        Err(panic) => ErrorInfo::from_panic(&*panic),
    };
    fail(inner, hook, event, error);
}

/// Counts a failed delivery and emits `event_center.hook_failed` to every
/// matching hook but the one that failed. Failures while handling the
/// center's own events are counted but not reported again, so two failing
/// hooks cannot feed each other.
fn fail(inner: &Arc<Inner>, hook: &HookShared, event: &Event, error: ErrorInfo) {
    hook.failed.fetch_add(1, Ordering::Relaxed);
    inner.hook_failures.fetch_add(1, Ordering::Relaxed);
    if event.event_type.starts_with("event_center.") {
        return;
    }
    let resolved = inner.registry.resolved(HOOK_FAILED);
    if !resolved.is_listened() {
        return;
    }
    let mut report = Event::new(HOOK_FAILED)
        .with_source(SOURCE)
        .with_level(Level::Error)
        .with_message(format!(
            "hook `{}` failed on `{}`: {}",
            hook.name, event.event_type, error.message
        ))
        .with_payload(json!({
            "hook": &*hook.name,
            "event_type": &*event.event_type,
            "event_id": event.event_id.to_string(),
        }))
        .with_error(error);
    report.run = event.run.clone();
    report.seq = inner.next_seq();
    deliver(inner, &resolved, Arc::new(report), Some(hook.id));
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

struct Job {
    event: Arc<Event>,
    /// The delivery depth of the emit that queued it.
    depth: u32,
    done: Option<oneshot::Sender<()>>,
}

/// The worker of one async hook: a thread with its own single-threaded
/// runtime that awaits the hook's futures one at a time, in queue order.
pub(crate) struct AsyncWorker {
    tx: mpsc::UnboundedSender<Job>,
    pub(crate) pending: Arc<AtomicU64>,
}

fn enqueue(
    inner: &Arc<Inner>,
    entry: &HookEntry,
    hook: &Arc<dyn AsyncHook>,
    event: &Arc<Event>,
    done: Option<oneshot::Sender<()>>,
) {
    let worker = entry.worker.get_or_init(|| {
        AsyncWorker::start(Arc::downgrade(inner), entry.shared.clone(), hook.clone())
    });
    worker.pending.fetch_add(1, Ordering::AcqRel);
    let job = Job {
        event: event.clone(),
        depth: DEPTH.with(Cell::get),
        done,
    };
    if let Err(mpsc::error::SendError(job)) = worker.tx.send(job) {
        // The worker could not start or has stopped: the delivery fails.
        worker.pending.fetch_sub(1, Ordering::AcqRel);
        let error = ErrorInfo::new(
            "WorkerUnavailable",
            "the async hook's worker thread is not running",
        );
        fail(inner, &entry.shared, &job.event, error);
    }
}

impl AsyncWorker {
    fn start(
        center: Weak<Inner>,
        hook: Arc<HookShared>,
        callable: Arc<dyn AsyncHook>,
    ) -> AsyncWorker {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let pending = Arc::new(AtomicU64::new(0));
        let worker_pending = pending.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let spawned = runtime.map(|runtime| {
            std::thread::Builder::new()
                .name(format!("event-center-hook-{}", hook.name))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(job) = rx.recv().await {
                            run_job(&center, &hook, &callable, job).await;
                            worker_pending.fetch_sub(1, Ordering::AcqRel);
                        }
                    })
                })
        });
        // Without a thread the receiver is dropped here: every send then
        // fails and is counted as a failed delivery.
        drop(spawned);
        AsyncWorker { tx, pending }
    }
}

async fn run_job(center: &Weak<Inner>, hook: &HookShared, callable: &Arc<dyn AsyncHook>, job: Job) {
    if hook.is_active() {
        let outcome = Guarded::new(&**callable, &job.event, Some(job.depth)).await;
        finish_job(center, hook, &job.event, outcome);
    } else {
        hook.dropped_unregistered.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(done) = job.done {
        let _ = done.send(());
    }
}

fn finish_job(
    center: &Weak<Inner>,
    hook: &HookShared,
    event: &Event,
    outcome: std::thread::Result<HookResult>,
) {
    match center.upgrade() {
        Some(inner) => settle(&inner, hook, event, outcome),
        None if matches!(outcome, Ok(Ok(()))) => {
            hook.delivered.fetch_add(1, Ordering::Relaxed);
        }
        None => {
            hook.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}
