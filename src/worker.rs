//! The worker of a queued hook: a bounded FIFO queue with its overflow
//! policy, and a thread of the hook's own that calls it (awaiting async hooks
//! on a single-threaded runtime), coalesces, and reports drops.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::center::Inner;
use crate::coalesce::{Coalescer, Step, Summary};
use crate::delivery::{Delivery, Overflow};
use crate::dispatch::{call_on_worker, report_drops, settle};
use crate::event::Event;
use crate::hook::HookFn;
use crate::hook_entry::{DropReason, Due, HookShared};
use crate::sync::{AtomicBool, Condvar, Mutex, MutexGuard};

#[cfg(all(test, event_center_loom))]
mod loom_model;

/// How often, at most, one hook's drops are reported as an event.
pub(crate) const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(1);

thread_local! {
    /// The worker whose thread this is (its address), or 0.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// Whether the calling thread is some hook's worker.
pub(crate) fn on_worker_thread() -> bool {
    CURRENT.with(Cell::get) != 0
}

/// What became of an event offered to a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Queued for the worker.
    Queued,
    /// Dropped and counted; the worker reports it.
    Dropped,
    /// Dropped and counted after the worker's final report: the caller
    /// reports it ([`Due::Now`]).
    DroppedReportNow,
    /// A drop report the closed queue did not take (not counted at all).
    Refused,
}

impl Offered {
    fn dropped(report_now: bool) -> Offered {
        if report_now {
            Offered::DroppedReportNow
        } else {
            Offered::Dropped
        }
    }
}

/// One event queued for a hook.
pub(crate) struct Job {
    pub(crate) event: Arc<Event>,
    /// The delivery depth of the emit that queued it.
    pub(crate) depth: u32,
    /// Told when the job is settled (for `send_async` awaiting a queued
    /// async hook).
    pub(crate) done: Option<oneshot::Sender<()>>,
}

struct State {
    jobs: VecDeque<Job>,
    /// Events the worker is done with, left for the next emitter to free:
    /// the thread that allocated an event frees it, so the two threads do
    /// not fight over the allocator's locks (see [`Worker::offer`]).
    spent: Vec<Arc<Event>>,
    /// Set when the queue takes no more jobs; the worker drains what it has,
    /// flushes its buffer and stops.
    closed: Option<DropReason>,
    /// The worker waits for work.
    sleeping: bool,
    /// Emitters waiting for room (`Overflow::Block`).
    blocked: usize,
    flush_asked: u64,
    flush_done: u64,
    /// The worker thread has ended (or never started).
    finished: bool,
}

pub(crate) struct Worker {
    state: Mutex<State>,
    /// The worker waits here for jobs, flush requests and closing.
    wake: Condvar,
    /// Blocked emitters wait here for room.
    room: Condvar,
    /// Flushers wait here for the worker to run dry.
    idle: Condvar,
    /// Set by the emitter that makes the queue non-empty, cleared when the
    /// worker takes it: lets the worker spin briefly before it sleeps, so a
    /// steady stream of events does not pay a wake-up each.
    has_jobs: Padded<AtomicBool>,
    capacity: usize,
    overflow: Overflow,
}

/// Keeps a value on a cache line of its own, so the worker polling it does
/// not pull the queue's lock away from the emitter.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// How long a worker lets jobs gather after it sees the first one, when its
/// previous batch was small: spin-loop hints, about a microsecond. Taking
/// events one at a time as they arrive would move the queue's lock between
/// the cores on every event; a short wait turns that into one move per
/// batch.
const LINGER_SPINS: u32 = 1 << 9;
/// A batch at least this long means the worker is behind: it takes the next
/// batch at once.
const LINGER_BELOW: usize = 64;

/// Lets jobs gather: see [`LINGER_SPINS`].
fn linger() {
    for _ in 0..LINGER_SPINS {
        std::hint::spin_loop();
    }
}

/// How long handed-back events wait for an emit to free them once the
/// worker has nothing to do; then the worker frees them itself. Emits
/// resume within this while events keep coming, so the worker does not
/// take the allocator's locks under a busy emitter.
const SPENT_GRACE: Duration = Duration::from_millis(20);

/// How long a worker with nothing to do looks for work before it sleeps:
/// spins doubling up to 2^9, then yields a few times (a few microseconds).
const SPIN_STEPS: u32 = 16;

impl Worker {
    /// Starts the worker thread of `hook`. If the thread cannot be started,
    /// the queue is closed from the start and every offer fails visibly.
    pub(crate) fn start(
        center: &Arc<Inner>,
        hook: Arc<HookShared>,
        callable: HookFn,
        delivery: &Delivery,
    ) -> Arc<Worker> {
        if center.is_shut_down() {
            return Worker::closed(DropReason::Shutdown, delivery, &hook);
        }
        let worker = Worker::new(delivery, None);
        let coalescer = match delivery {
            Delivery::Coalesce { policy, .. } => Some(Coalescer::new(policy.clone())),
            _ => None,
        };
        let mut body = Body {
            worker: worker.clone(),
            center: Arc::downgrade(center),
            hook: hook.clone(),
            callable,
            coalescer,
            runtime: None,
            delivered: 0,
            spent: Vec::new(),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("event-center-hook-{}", hook.name))
            .spawn(move || body.run());
        if spawned.is_err() {
            let mut state = worker.lock();
            state.closed = Some(DropReason::WorkerUnavailable);
            state.finished = true;
            drop(state);
            seal_without_worker(&hook);
        }
        worker
    }

    /// A worker with no thread that drops every offer for `reason`: for a
    /// hook retired before its worker started, or registered after shutdown.
    /// No worker will report its drops: each is reported by its counter.
    pub(crate) fn closed(
        reason: DropReason,
        delivery: &Delivery,
        hook: &HookShared,
    ) -> Arc<Worker> {
        seal_without_worker(hook);
        Worker::new(delivery, Some(reason))
    }

    fn new(delivery: &Delivery, closed: Option<DropReason>) -> Arc<Worker> {
        let (capacity, overflow) = delivery
            .queue()
            .unwrap_or((crate::delivery::DEFAULT_CAPACITY, Overflow::Block));
        Arc::new(Worker {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                spent: Vec::new(),
                closed,
                sleeping: false,
                blocked: 0,
                flush_asked: 0,
                flush_done: 0,
                finished: closed.is_some(),
            }),
            wake: Condvar::new(),
            room: Condvar::new(),
            idle: Condvar::new(),
            has_jobs: Padded(AtomicBool::new(false)),
            capacity,
            overflow,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock (hooks run outside it), so a
        // poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job` for `hook`, applying the overflow policy. The caller has
    /// counted it as accepted and pending.
    pub(crate) fn offer(&self, hook: &HookShared, job: Job) -> Offered {
        self.push(hook, job, false)
    }

    /// Queues a drop report for `hook`, counting it as accepted and pending,
    /// unless the queue is closed: then it is refused and not counted at
    /// all (see `dispatch::emit_drop_report`).
    pub(crate) fn offer_report(&self, hook: &HookShared, job: Job) -> Offered {
        self.push(hook, job, true)
    }

    /// [`offer`](Self::offer), or [`offer_report`](Self::offer_report) when
    /// `report`. Drops are counted under the lock: the worker decides under
    /// it whether it has drops to report (and when to wake for them), and
    /// when it has taken its final report, the count tells the caller to
    /// report the drop itself.
    #[inline(always)]
    fn push(&self, hook: &HookShared, job: Job, report: bool) -> Offered {
        let mut state = self.lock();
        if let Some(reason) = state.closed {
            if report {
                drop(state);
                return Offered::Refused;
            }
            let now = hook.count_drop(reason);
            drop(state);
            drop(job);
            return Offered::dropped(now);
        }
        if report {
            hook.accept(1);
        }
        if state.jobs.len() >= self.capacity {
            match self.overflow {
                Overflow::DropNewest => {
                    let now = hook.count_drop(DropReason::QueueFull);
                    drop(state);
                    drop(job);
                    return Offered::dropped(now);
                }
                Overflow::DropOldest => {
                    let oldest = state.jobs.pop_front();
                    state.jobs.push_back(job);
                    let now = oldest.is_some() && hook.count_drop(DropReason::Evicted);
                    drop(state);
                    drop(oldest);
                    return Offered::dropped(now);
                }
                // From a worker thread, waiting could close a cycle of hooks
                // that emit into each other: queue past the capacity instead.
                Overflow::Block if on_worker_thread() => {}
                Overflow::Block => {
                    state.blocked += 1;
                    while state.jobs.len() >= self.capacity && state.closed.is_none() {
                        state = self.room.wait(state).unwrap_or_else(|p| p.into_inner());
                    }
                    state.blocked -= 1;
                    if let Some(reason) = state.closed {
                        let now = hook.count_drop(reason);
                        drop(state);
                        drop(job);
                        return Offered::dropped(now);
                    }
                }
            }
        }
        state.jobs.push_back(job);
        let len = state.jobs.len() as u64;
        if len == 1 {
            self.has_jobs.store(true, Ordering::Release);
        }
        if state.sleeping {
            state.sleeping = false;
            self.wake.notify_one();
        }
        // An event this thread (most likely) allocated, freed here rather
        // than on the worker: frees and allocations then stay on one thread
        // and its allocator cache instead of taking the allocator's lock on
        // both threads for every event. One per emit, the one handled last:
        // each emit then frees what it allocates, from the allocator's
        // per-thread cache, and touches an event still in cache; events
        // left deeper in the list are freed by the worker once the emits
        // stop (measured with glibc's allocator, the JSONL bench: the whole
        // handed-back batch per emit 1.2-1.5 M events/s, four events
        // 0.88-0.97, one 1.54-1.82).
        let spent = state.spent.pop();
        drop(state);
        drop(spent);
        let high_water = &hook.counters.high_water;
        if len > high_water.load(Ordering::Relaxed) {
            high_water.fetch_max(len, Ordering::Relaxed);
        }
        Offered::Queued
    }

    /// Spins briefly for an emitter to queue something; true if one did.
    fn spin_for_jobs(&self) -> bool {
        for step in 0..SPIN_STEPS {
            if self.has_jobs.load(Ordering::Acquire) {
                return true;
            }
            if step < 10 {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
        }
        self.has_jobs.load(Ordering::Acquire)
    }

    /// Asks the worker to drain its queue and flush its coalescing buffer;
    /// returns the request's number for [`Worker::wait_flushed`].
    pub(crate) fn ask_flush(&self) -> u64 {
        let mut state = self.lock();
        state.flush_asked += 1;
        if state.sleeping {
            state.sleeping = false;
            self.wake.notify_one();
        }
        state.flush_asked
    }

    /// Waits until flush request `ticket` is done or the worker has ended;
    /// false if `deadline` came first (or if called from this worker's own
    /// thread, which cannot wait for itself).
    pub(crate) fn wait_flushed(&self, ticket: u64, deadline: Instant) -> bool {
        self.wait_until(deadline, |state| {
            state.flush_done >= ticket || state.finished
        })
    }

    /// Takes no more jobs: what is queued is still handled (or dropped, for
    /// an unregistered hook), the coalescing buffer is flushed, and the
    /// thread ends. Emitters blocked on a full queue drop their event with
    /// `reason`.
    pub(crate) fn close(&self, reason: DropReason) {
        let mut state = self.lock();
        if state.closed.is_none() {
            state.closed = Some(reason);
        }
        state.sleeping = false;
        self.wake.notify_one();
        self.room.notify_all();
    }

    /// Whether the worker thread has ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Waits until the thread has ended; false if `deadline` came first.
    pub(crate) fn wait_finished(&self, deadline: Instant) -> bool {
        self.wait_until(deadline, |state| state.finished)
    }

    /// Waits on `idle` until `done` holds; false if `deadline` came first or
    /// if called from this worker's own thread, which cannot wait for itself.
    fn wait_until(&self, deadline: Instant, done: impl Fn(&State) -> bool) -> bool {
        if CURRENT.with(Cell::get) == self as *const Worker as usize {
            return false;
        }
        let mut state = self.lock();
        while !done(&state) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .idle
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// Seals the drop ledger of a hook whose queue has no worker: its drops are
/// reported by whoever counts them. Nothing can have been counted yet (drops
/// are counted by the queue, and this is its only worker), so there is
/// nothing to report here.
fn seal_without_worker(hook: &HookShared) {
    let unreported = hook.counters.unreported.seal();
    debug_assert_eq!(unreported, 0, "drops counted before the queue existed");
}

/// What the worker thread owns.
struct Body {
    worker: Arc<Worker>,
    center: Weak<Inner>,
    hook: Arc<HookShared>,
    callable: HookFn,
    coalescer: Option<Coalescer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Successful deliveries not yet added to the hook's counters.
    delivered: u64,
    /// Events of the current batch the worker is done with, handed back to
    /// the queue when it takes the next batch.
    spent: Vec<Arc<Event>>,
}

impl Body {
    fn run(&mut self) {
        CURRENT.with(|current| current.set(Arc::as_ptr(&self.worker) as usize));
        if matches!(self.callable, HookFn::Async(_)) {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => self.runtime = Some(runtime),
                Err(_) => {
                    self.worker.close(DropReason::WorkerUnavailable);
                }
            }
        }
        let mut batch = VecDeque::new();
        let mut spun = false;
        let mut taken = usize::MAX;
        // When the worker, idle, frees the handed-back events no emit took.
        let mut spent_due: Option<Instant> = None;
        loop {
            if taken < LINGER_BELOW {
                linger();
            }
            let mut state = self.worker.lock();
            // Hand the last batch's events back for emitters to free.
            state.spent.append(&mut self.spent);
            loop {
                if !state.jobs.is_empty() {
                    std::mem::swap(&mut state.jobs, &mut batch);
                    taken = batch.len();
                    self.worker.has_jobs.store(false, Ordering::Relaxed);
                    spun = false;
                    spent_due = None;
                    if state.blocked > 0 {
                        self.worker.room.notify_all();
                    }
                    break;
                }
                if state.flush_asked > state.flush_done || state.closed.is_some() {
                    let asked = state.flush_asked;
                    // Only a pass that began closed ends the worker: one that
                    // a close overtook made no final report, so it goes
                    // round once more.
                    let closing = state.closed.is_some();
                    drop(state);
                    if let Some(summary) = self.coalescer.as_mut().and_then(Coalescer::flush) {
                        self.deliver_summary(summary, 0);
                    }
                    self.publish();
                    self.report_drops(if closing { Due::Final } else { Due::Paced });
                    state = self.worker.lock();
                    if !state.jobs.is_empty() {
                        // Not when closing: a closed queue takes no job.
                        continue;
                    }
                    state.flush_done = asked;
                    if closing {
                        state.finished = true;
                        let spent = std::mem::take(&mut state.spent);
                        self.worker.idle.notify_all();
                        drop(state);
                        drop(spent);
                        return;
                    }
                    self.worker.idle.notify_all();
                    continue;
                }
                if !spun {
                    spun = true;
                    drop(state);
                    if self.worker.spin_for_jobs() {
                        linger();
                    }
                    state = self.worker.lock();
                    continue;
                }
                if !state.spent.is_empty() {
                    let due = *spent_due.get_or_insert_with(|| Instant::now() + SPENT_GRACE);
                    if Instant::now() >= due {
                        // No emit came to free them: the emitters are idle,
                        // so freeing here contends with nobody.
                        let spent = std::mem::take(&mut state.spent);
                        drop(state);
                        drop(spent);
                        spent_due = None;
                        state = self.worker.lock();
                        continue;
                    }
                }
                let timer = self.next_timer();
                let deadline = match (timer, spent_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                state.sleeping = true;
                state = match deadline {
                    None => self
                        .worker
                        .wake
                        .wait(state)
                        .unwrap_or_else(|p| p.into_inner()),
                    Some(at) => {
                        let wait = at.saturating_duration_since(Instant::now());
                        self.worker
                            .wake
                            .wait_timeout(state, wait)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                };
                state.sleeping = false;
                if timer.is_some_and(|at| Instant::now() >= at) {
                    drop(state);
                    self.on_timer();
                    state = self.worker.lock();
                }
            }
            drop(state);
            for job in batch.drain(..) {
                self.handle(job);
            }
            self.publish();
            self.report_drops(Due::Paced);
        }
    }

    /// When the worker must wake by itself: the coalescing buffer's deadline,
    /// or the next drop report.
    fn next_timer(&self) -> Option<Instant> {
        let buffer = self.coalescer.as_ref().and_then(Coalescer::deadline);
        let report = (self.hook.counters.unreported.pending() > 0).then(|| {
            let since = self.hook.since_last_report();
            Instant::now() + DROP_REPORT_INTERVAL.saturating_sub(since)
        });
        match (buffer, report) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        if let Some(summary) = self.coalescer.as_mut().and_then(|c| c.on_timer(now)) {
            self.deliver_summary(summary, 0);
        }
        self.publish();
        self.report_drops(Due::Paced);
    }

    /// Adds the batch's successful deliveries to the hook's counters.
    fn publish(&mut self) {
        if self.delivered > 0 {
            self.hook.delivered(std::mem::take(&mut self.delivered));
        }
    }

    fn report_drops(&self, due: Due) {
        match self.center.upgrade() {
            Some(center) => report_drops(&center, &self.hook, due),
            // The center is gone, and every hook that could hear a report
            // with it; the final report still seals the ledger.
            None if due == Due::Final => {
                self.hook.counters.unreported.seal();
            }
            None => {}
        }
    }

    fn handle(&mut self, job: Job) {
        if !self.hook.is_active() {
            // Counted on this worker, before its final report: reported by
            // it.
            let _ = self.hook.count_drop(DropReason::Unregistered);
            return;
        }
        let Job { event, depth, done } = job;
        match self.coalescer.as_mut() {
            None => {
                self.call(&event, depth, 1);
                self.spent.push(event);
            }
            Some(coalescer) => {
                let now = Instant::now();
                // A buffer whose deadline passed while the worker was busy
                // goes out before the next event joins a new one.
                let late = coalescer.on_timer(now);
                let step = coalescer.push(event, now);
                if let Some(summary) = late {
                    self.deliver_summary(summary, depth);
                }
                match step {
                    Step::Buffered => {}
                    Step::Deliver(event) => self.call(&event, depth, 1),
                    Step::Flush(summary) => self.deliver_summary(summary, depth),
                    Step::FlushThenDeliver(summary, event) => {
                        self.deliver_summary(summary, depth);
                        self.call(&event, depth, 1);
                    }
                }
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn deliver_summary(&mut self, summary: Summary, depth: u32) {
        let Summary { mut event, count } = summary;
        if let Some(center) = self.center.upgrade() {
            if let Some(e) = Arc::get_mut(&mut event) {
                e.seq = center.next_seq();
            }
        }
        self.call(&event, depth, count as u64);
    }

    /// Calls the hook with `event`, standing for `count` accepted events,
    /// and settles them: failures at once, successes added to `delivered`,
    /// published once per batch (one atomic update per batch, not per
    /// event).
    fn call(&mut self, event: &Arc<Event>, depth: u32, count: u64) {
        let outcome = call_on_worker(&self.callable, self.runtime.as_ref(), event, depth);
        if let Ok(Ok(())) = outcome {
            self.delivered += count;
            return;
        }
        match self.center.upgrade() {
            Some(center) => settle(&center, &self.hook, event, outcome, count),
            None => self.hook.failed(count),
        }
    }
}
