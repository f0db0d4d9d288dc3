//! Queued delivery (`Delivery::Background`), with peers side by side.
//!
//! Groups:
//! - `background_end_to_end`: a batch of 10,000 emits into one
//!   `Background(65,536, Block)` hook, timed until the hook has counted all
//!   of them, so the worker handoff is inside the time (throughput in
//!   events/s; target >= 3,000,000). The batch is waited for by spinning
//!   and yielding on the hook's counter (`event_center`) or by
//!   `center.flush` (`event_center_flush`). Peer: a hand-built
//!   `std::sync::mpsc::sync_channel` of the same capacity carrying
//!   `Arc<Event>` to a counting thread (`std_sync_channel`).
//! - `stalled_drop_oldest`: the emitter's time per emit with one
//!   `Background(1,024, DropOldest)` hook whose worker is stuck in its first
//!   call until the group ends (the queue is full, so every emit evicts the
//!   oldest event), next to a center with no hooks at all (an emit there is
//!   a memo hit that builds nothing) and a center with one no-op `Inline`
//!   hook (an emit there builds, seals and delivers the event). Target:
//!   within 1.5x of no hooks; both ratios are printed by `medians.py`.
//! - `broadcast_peer`: the fan-out a user would build by hand:
//!   `tokio::sync::broadcast` of `Arc<Event>` with 1 and 10 subscriber tasks
//!   on a two-thread runtime, each filtering by an event-type prefix (one
//!   matches), against this crate with 1 and 10 `Background` hooks with
//!   patterns (one matches). Timed end to end like `background_end_to_end`
//!   (broadcast batches end when every subscriber has looked at every
//!   event). Before the group's first bench, a burst of 100,000 events into
//!   a 1,024-slot channel or queue with a consumer that spends about 1 us
//!   per event prints how many events each loses (outside criterion's
//!   timing).
//!
//! The end-to-end numbers depend on the allocator: events are allocated by
//! the emitting thread, and when the consuming thread frees them, both
//! threads take the system allocator's arena lock for every event. The
//! crate's workers hand handled events back to the next emit to free (see
//! `Delivery::Background`); the hand-built peers free on the consumer, as a
//! user's channel would.
//!
//! Run: `cargo bench --bench delivery`; `python3 benches/medians.py` prints
//! the medians and ratios.

use std::cell::Cell;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// Events per timed batch in the end-to-end groups.
const BATCH: u64 = 10_000;
/// The queue (and channel) capacity of the end-to-end groups.
const CAPACITY: usize = 65_536;
/// The event type every bench emits.
const EVENT_TYPE: &str = "model.completed";
/// How long a batch may take before the bench gives up (a lost event would
/// otherwise hang the run).
const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Helpers.

/// Waits until `counter` reaches `target`: a short spin, then yielding the
/// core (on two cores the consumer needs it).
fn wait_for(counter: &AtomicU64, target: u64) {
    let start = Instant::now();
    let mut spins = 0u32;
    while counter.load(Ordering::Acquire) < target {
        if spins < 100 {
            spins += 1;
            spin_loop();
        } else {
            thread::yield_now();
            if start.elapsed() > PATIENCE {
                panic!(
                    "gave up after {PATIENCE:?}: {} of {target} events arrived",
                    counter.load(Ordering::Acquire)
                );
            }
        }
    }
}

/// About `d` of busy work: the slow consumer of the burst report.
fn busy(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        spin_loop();
    }
}

/// The options of a `Background` hook.
fn background(capacity: usize, overflow: Overflow) -> HookOptions {
    HookOptions::new().with_delivery(Delivery::background(capacity, overflow))
}

/// Registers a `Background` hook on `pattern` that counts its events.
fn register_counting(
    center: &EventCenter,
    name: &str,
    pattern: &str,
    options: HookOptions,
) -> Arc<AtomicU64> {
    let counter = Arc::new(AtomicU64::new(0));
    let seen = counter.clone();
    center
        .register_hook_with(
            name.to_owned(),
            pattern.to_owned(),
            options,
            move |e: &Event| {
                black_box(e);
                seen.fetch_add(1, Ordering::Release);
            },
        )
        .expect("register a counting hook");
    counter
}

/// The event a hand-built peer sends: what an emitter builds (a v7 id from
/// the clock, the source, a sequence number), in one `Arc`.
fn peer_event(seq: &AtomicU64) -> Arc<Event> {
    let mut event = Event::new(EVENT_TYPE).with_source("Agent");
    event.seq = seq.fetch_add(1, Ordering::Relaxed) + 1;
    Arc::new(event)
}

/// Prefixes of the broadcast subscribers: the first matches `EVENT_TYPE`.
fn prefix(i: usize) -> String {
    if i == 0 {
        "model.".to_owned()
    } else {
        format!("svc{i}.")
    }
}

/// Patterns of the crate's hooks: the first matches `EVENT_TYPE`.
fn pattern(i: usize) -> String {
    format!("{}*", prefix(i))
}

// ---------------------------------------------------------------------------
// background_end_to_end

fn background_end_to_end(c: &mut Criterion) {
    let center = EventCenter::new();
    let counter = register_counting(
        &center,
        "counter",
        EVENT_TYPE,
        background(CAPACITY, Overflow::Block),
    );
    let emitter = center.emitter("Agent");
    emitter.emit(EVENT_TYPE).send();
    wait_for(&counter, 1);

    // The hand-built peer: a bounded channel into a thread of its own.
    let (tx, rx): (SyncSender<Arc<Event>>, Receiver<Arc<Event>>) = mpsc::sync_channel(CAPACITY);
    let peer_count = Arc::new(AtomicU64::new(0));
    let peer_thread = {
        let seen = peer_count.clone();
        thread::spawn(move || {
            for event in rx {
                black_box(&event);
                seen.fetch_add(1, Ordering::Release);
            }
        })
    };
    let peer_seq = AtomicU64::new(0);

    let mut group = c.benchmark_group("background_end_to_end");
    group.throughput(Throughput::Elements(BATCH));
    // A batch takes milliseconds: 20 samples of them fit 2 s.
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("event_center", |b| {
        b.iter(|| {
            let target = counter.load(Ordering::Acquire) + BATCH;
            for _ in 0..BATCH {
                emitter.emit(black_box(EVENT_TYPE)).send();
            }
            wait_for(&counter, target);
        })
    });
    group.bench_function("event_center_flush", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                emitter.emit(black_box(EVENT_TYPE)).send();
            }
            let report = center.flush(PATIENCE);
            assert!(report.is_complete(), "flush timed out: {report:?}");
        })
    });
    group.bench_function("std_sync_channel", |b| {
        b.iter(|| {
            let target = peer_count.load(Ordering::Acquire) + BATCH;
            for _ in 0..BATCH {
                tx.send(peer_event(&peer_seq))
                    .expect("the peer thread lives");
            }
            wait_for(&peer_count, target);
        })
    });
    group.finish();

    drop(tx);
    peer_thread.join().expect("the peer thread ends");
    let stats = &center.stats().hooks[0];
    assert_eq!(stats.dropped.total(), 0, "Block must not drop: {stats:?}");
    assert_eq!(stats.failed, 0);
}

// ---------------------------------------------------------------------------
// stalled_drop_oldest

fn stalled_drop_oldest(c: &mut Criterion) {
    // (a) No hooks: the unlistened type is answered by the memo.
    let bare = EventCenter::new();
    let bare_emitter = bare.emitter("Agent");
    bare_emitter.emit(EVENT_TYPE).send();
    assert!(!bare.is_listened(EVENT_TYPE));

    // (b) One no-op inline hook: the event is built, sealed and delivered.
    let inline = EventCenter::new();
    inline
        .register_hook("noop", EVENT_TYPE, |e: &Event| {
            black_box(e);
        })
        .unwrap();
    let inline_emitter = inline.emitter("Agent");
    inline_emitter.emit(EVENT_TYPE).send();
    assert_eq!(inline.stats().hooks[0].delivered, 1);

    // (c) One stalled DropOldest hook: its worker blocks in the first call
    // until `release` is dropped, so the queue stays full and every emit
    // evicts the oldest event.
    let stalled = EventCenter::new();
    let (release, stuck) = mpsc::channel::<()>();
    let stuck = Mutex::new(stuck);
    let calls = Arc::new(AtomicU64::new(0));
    let entered = calls.clone();
    stalled
        .register_hook_with(
            "stalled",
            EVENT_TYPE,
            background(1_024, Overflow::DropOldest),
            move |e: &Event| {
                black_box(e);
                entered.fetch_add(1, Ordering::Release);
                // Returns (with an error) once the sender is dropped.
                let _ = stuck.lock().unwrap().recv();
            },
        )
        .unwrap();
    let stalled_emitter = stalled.emitter("Agent");
    stalled_emitter.emit(EVENT_TYPE).send();
    wait_for(&calls, 1);
    for _ in 0..2_048 {
        stalled_emitter.emit(EVENT_TYPE).send();
    }
    let before = stalled.stats().hooks[0].clone();
    assert!(before.dropped.evicted > 0, "the queue is full: {before:?}");

    let mut group = c.benchmark_group("stalled_drop_oldest");
    group.bench_function("no_hooks", |b| {
        b.iter(|| bare_emitter.emit(black_box(EVENT_TYPE)).send())
    });
    group.bench_function("one_inline_noop_hook", |b| {
        b.iter(|| inline_emitter.emit(black_box(EVENT_TYPE)).send())
    });
    group.bench_function("stalled_background_drop_oldest", |b| {
        b.iter(|| stalled_emitter.emit(black_box(EVENT_TYPE)).send())
    });
    group.finish();

    // Still stuck in the first call: everything since was queued (never more
    // than the capacity) or evicted.
    let after = stalled.stats().hooks[0].clone();
    assert_eq!(calls.load(Ordering::Acquire), 1);
    assert_eq!(after.delivered, 0);
    assert!(after.pending <= 1 + 1_024, "{after:?}");
    assert_eq!(after.accepted, after.dropped.evicted + after.pending);
    drop(release);
    let report = stalled.flush(PATIENCE);
    assert!(report.is_complete(), "{report:?}");
}

// ---------------------------------------------------------------------------
// broadcast_peer

/// A tokio broadcast channel with `subscribers` subscriber tasks, each
/// filtering by its prefix (only the first matches `EVENT_TYPE`).
struct Broadcast {
    tx: broadcast::Sender<Arc<Event>>,
    /// Events each subscriber has looked at (received or lost), summed.
    looked_at: Arc<AtomicU64>,
    /// Events that passed a subscriber's filter.
    matched: Arc<AtomicU64>,
    /// Events lost to `RecvError::Lagged`, summed over subscribers.
    lagged: Arc<AtomicU64>,
    subscribers: u64,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    seq: AtomicU64,
}

impl Broadcast {
    fn new(
        runtime: &tokio::runtime::Runtime,
        subscribers: usize,
        capacity: usize,
        work: Duration,
    ) -> Broadcast {
        let (tx, _) = broadcast::channel::<Arc<Event>>(capacity);
        let looked_at = Arc::new(AtomicU64::new(0));
        let matched = Arc::new(AtomicU64::new(0));
        let lagged = Arc::new(AtomicU64::new(0));
        let tasks = (0..subscribers)
            .map(|i| {
                let mut rx = tx.subscribe();
                let prefix = prefix(i);
                let (looked_at, matched, lagged) =
                    (looked_at.clone(), matched.clone(), lagged.clone());
                runtime.spawn(async move {
                    loop {
                        match rx.recv().await {
                            Ok(event) => {
                                if event.event_type.starts_with(&*prefix) {
                                    if !work.is_zero() {
                                        busy(work);
                                    }
                                    black_box(&event);
                                    matched.fetch_add(1, Ordering::Relaxed);
                                }
                                looked_at.fetch_add(1, Ordering::Release);
                            }
                            Err(RecvError::Lagged(n)) => {
                                lagged.fetch_add(n, Ordering::Relaxed);
                                looked_at.fetch_add(n, Ordering::Release);
                            }
                            Err(RecvError::Closed) => break,
                        }
                    }
                })
            })
            .collect();
        Broadcast {
            tx,
            looked_at,
            matched,
            lagged,
            subscribers: subscribers as u64,
            tasks,
            seq: AtomicU64::new(0),
        }
    }

    fn send(&self) {
        self.tx
            .send(peer_event(&self.seq))
            .expect("the subscribers live");
    }

    /// Sends `n` events and waits until every subscriber has looked at them.
    fn batch(&self, n: u64) {
        let target = self.looked_at.load(Ordering::Acquire) + n * self.subscribers;
        for _ in 0..n {
            self.send();
        }
        wait_for(&self.looked_at, target);
    }

    /// Closes the channel and waits for the subscribers to end.
    fn close(self, runtime: &tokio::runtime::Runtime) -> (u64, u64) {
        drop(self.tx);
        for task in self.tasks {
            runtime.block_on(task).expect("a subscriber ends");
        }
        (
            self.matched.load(Ordering::Acquire),
            self.lagged.load(Ordering::Acquire),
        )
    }
}

/// A center with `hooks` `Background` hooks with patterns (only the first
/// matches `EVENT_TYPE`); returns the center and the matching hook's count.
fn center_with_hooks(
    hooks: usize,
    options: HookOptions,
    work: Duration,
) -> (EventCenter, Arc<AtomicU64>) {
    let center = EventCenter::new();
    let counter = Arc::new(AtomicU64::new(0));
    for i in 0..hooks {
        let seen = counter.clone();
        center
            .register_hook_with(
                format!("hook-{i}"),
                pattern(i),
                options.clone(),
                move |e: &Event| {
                    if !work.is_zero() {
                        busy(work);
                    }
                    black_box(e);
                    seen.fetch_add(1, Ordering::Release);
                },
            )
            .unwrap();
    }
    (center, counter)
}

const BURST: u64 = 100_000;
const BURST_CAPACITY: usize = 1_024;
const SLOW: Duration = Duration::from_micros(1);

/// One row of the burst table.
struct Burst {
    who: &'static str,
    delivered: u64,
    lost: u64,
    emit_time: Duration,
    total_time: Duration,
}

fn burst_broadcast(runtime: &tokio::runtime::Runtime) -> Burst {
    let peer = Broadcast::new(runtime, 1, BURST_CAPACITY, SLOW);
    let start = Instant::now();
    for _ in 0..BURST {
        peer.send();
    }
    let emit_time = start.elapsed();
    let looked_at = peer.looked_at.clone();
    let (delivered, lost) = peer.close(runtime);
    let total_time = start.elapsed();
    assert_eq!(looked_at.load(Ordering::Acquire), BURST);
    assert_eq!(delivered + lost, BURST);
    Burst {
        who: "tokio broadcast (lagged)",
        delivered,
        lost,
        emit_time,
        total_time,
    }
}

fn burst_center(who: &'static str, overflow: Overflow) -> Burst {
    let (center, counter) = center_with_hooks(1, background(BURST_CAPACITY, overflow), SLOW);
    let emitter = center.emitter("Agent");
    let start = Instant::now();
    for _ in 0..BURST {
        emitter.emit(EVENT_TYPE).send();
    }
    let emit_time = start.elapsed();
    let report = center.flush(PATIENCE);
    let total_time = start.elapsed();
    assert!(report.is_complete(), "{report:?}");
    let stats = &report.hooks[0];
    assert_eq!(stats.accepted, BURST);
    assert_eq!(stats.delivered, counter.load(Ordering::Acquire));
    assert_eq!(stats.delivered + stats.dropped.total(), BURST, "{stats:?}");
    Burst {
        who,
        delivered: stats.delivered,
        lost: stats.dropped.total(),
        emit_time,
        total_time,
    }
}

/// Prints how many events each design loses under a burst, outside
/// criterion's timing.
fn burst_report(runtime: &tokio::runtime::Runtime) {
    let rows = [
        burst_broadcast(runtime),
        burst_center("event-center DropOldest", Overflow::DropOldest),
        burst_center("event-center DropNewest", Overflow::DropNewest),
        burst_center("event-center Block", Overflow::Block),
    ];
    eprintln!(
        "\nburst: {BURST} events, capacity {BURST_CAPACITY}, one consumer doing ~{SLOW:?} of work per event"
    );
    eprintln!(
        "{:<28} {:>10} {:>10} {:>12} {:>14}",
        "", "delivered", "lost", "emit time", "until drained"
    );
    for row in &rows {
        eprintln!(
            "{:<28} {:>10} {:>10} {:>12.1?} {:>14.1?}",
            row.who, row.delivered, row.lost, row.emit_time, row.total_time
        );
    }
    eprintln!();
}

fn broadcast_peer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The burst report runs once, before the first bench of the group that
    // the command line selects (none: no report).
    let reported = Cell::new(false);
    let report_once = || {
        if !reported.replace(true) {
            burst_report(&runtime);
        }
    };

    let mut group = c.benchmark_group("broadcast_peer");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(2));
    for subscribers in [1, 10] {
        let peer = Broadcast::new(&runtime, subscribers, CAPACITY, Duration::ZERO);
        peer.batch(1);
        group.bench_function(format!("tokio_broadcast_{subscribers}_subscribers"), |b| {
            report_once();
            b.iter(|| peer.batch(BATCH))
        });
        let (matched, lagged) = peer.close(&runtime);
        assert_eq!(lagged, 0, "the end-to-end peer must not lag");
        assert!(matched > 0);

        let (center, counter) = center_with_hooks(
            subscribers,
            background(CAPACITY, Overflow::Block),
            Duration::ZERO,
        );
        let emitter = center.emitter("Agent");
        emitter.emit(EVENT_TYPE).send();
        wait_for(&counter, 1);
        group.bench_function(format!("event_center_{subscribers}_hooks"), |b| {
            report_once();
            b.iter(|| {
                let target = counter.load(Ordering::Acquire) + BATCH;
                for _ in 0..BATCH {
                    emitter.emit(black_box(EVENT_TYPE)).send();
                }
                wait_for(&counter, target);
            })
        });
        let stats = center.stats();
        assert_eq!(stats.hooks.len(), subscribers);
        // Only the matching hook ever saw an event.
        assert!(stats.hooks[1..].iter().all(|h| h.accepted == 0));
        assert_eq!(stats.hooks[0].dropped.total(), 0);
    }
    group.finish();
}

criterion_group! {
    name = delivery;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = background_end_to_end, stalled_drop_oldest, broadcast_peer
}
criterion_main!(delivery);
