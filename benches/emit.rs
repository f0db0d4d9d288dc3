//! The emit hot path, with peers side by side.
//!
//! Groups:
//! - `unmatched`: ~10 hooks, none listening to the emitted type (target
//!   <= 10 ns, zero allocations: checked before benchmarking). Peer: a
//!   `tracing::debug!` that the subscriber's level filter turns away. Also
//!   `emit_typed` of a small struct nobody listens to (nothing serialized).
//! - `one_inline_hook`: one matching inline hook (target <= 200 ns). Peer:
//!   `tracing::info!` into a registry with a counting layer.
//! - `thousand_unmatched_plus_one`: 1,000 non-matching hooks (exact names
//!   and globs) plus the one matching hook (target <= 1.2x one_inline_hook),
//!   next to the one-hook center measured in the same group.
//! - `async_awaited_hook`: `send_async().await` to one async hook on a tokio
//!   current-thread runtime (the loop compared with Agently; see
//!   `benches/agently_peer.sh`).
//! - `captured`: an emit nobody listens to inside a capture scope (built,
//!   sealed and collected), per event over scopes of 1,024 events, and a
//!   whole scope of one event.
//!
//! Run: `cargo bench --bench emit`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
#[path = "support/async_counter.rs"]
mod async_counter;
use async_counter::async_counter_center;
use event_center::{Event, EventCenter, TypedEvent};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations_during;

// ---------------------------------------------------------------------------
// Fixtures.

/// Patterns that never match `model.*` events (nor their aliases).
const TEN_UNMATCHED: [&str; 10] = [
    "tool.*",
    "action.loop_started",
    "action.plan_ready",
    "workflow.*",
    "triggerflow.execution_started",
    "agent.?tep",
    "session.[ab]*",
    "runtime.error",
    "response.*",
    "request.*",
];

fn center_with_unmatched(n: usize) -> EventCenter {
    let center = EventCenter::new();
    for i in 0..n {
        // A mix of exact names and globs, each distinct.
        let pattern = match i % 4 {
            0 => format!("svc{i}.started"),
            1 => format!("svc{i}.*"),
            2 => format!("tool{i}.call_?"),
            _ => format!("agent{i}.[abc]*"),
        };
        center
            .register_hook(format!("unmatched-{i}"), pattern, |e: &Event| {
                black_box(e);
            })
            .unwrap();
    }
    center
}

fn register_counter(center: &EventCenter, name: &str) -> Arc<AtomicU64> {
    let counter = Arc::new(AtomicU64::new(0));
    let seen = counter.clone();
    center
        .register_hook(name.to_owned(), "model.completed", move |e: &Event| {
            black_box(e);
            seen.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    counter
}

// ---------------------------------------------------------------------------
// The tracing peer: a layer that records each event (visits its fields into
// a small struct) and counts it.

#[derive(Default)]
struct Seen {
    fields: u32,
    event_type_len: usize,
}

impl Visit for Seen {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields += 1;
        if field.name() == "event_type" {
            self.event_type_len = value.len();
        }
    }

    fn record_debug(&mut self, _field: &Field, value: &dyn fmt::Debug) {
        self.fields += 1;
        black_box(value);
    }
}

struct CountingLayer {
    events: Arc<AtomicU64>,
}

impl<S: tracing::Subscriber> Layer<S> for CountingLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut seen = Seen::default();
        event.record(&mut seen);
        black_box(&seen);
        self.events.fetch_add(1, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------
// Groups.

/// A typed event for `unmatched/event_center_emit_typed`.
#[derive(serde::Serialize, serde::Deserialize)]
struct TokenDelta {
    text: String,
    index: u32,
}

impl TypedEvent for TokenDelta {
    const EVENT_TYPE: &'static str = "model.delta";
}

fn unmatched(c: &mut Criterion) {
    let center = EventCenter::new();
    for (i, pattern) in TEN_UNMATCHED.iter().enumerate() {
        center
            .register_hook(format!("h{i}"), *pattern, |e: &Event| {
                black_box(e);
            })
            .unwrap();
    }
    let emitter = center.emitter("Agent");
    assert!(!center.is_listened("model.delta"));

    // Warm the resolution cache, then check that unmatched emits allocate
    // nothing.
    emitter.emit("model.delta").send();
    const CHECK: usize = 10_000;
    let allocations = allocations_during(|| {
        for _ in 0..CHECK {
            emitter.emit(black_box("model.delta")).send();
        }
    });
    println!("unmatched: {allocations} allocations across {CHECK} emits");
    assert_eq!(allocations, 0, "an unmatched emit must not allocate");

    let mut group = c.benchmark_group("unmatched");
    group.bench_function("event_center", |b| {
        b.iter(|| emitter.emit(black_box("model.delta")).send())
    });
    // A typed event nobody listens to: nothing is serialized.
    let delta = TokenDelta {
        text: "Hel".to_owned(),
        index: 3,
    };
    emitter.emit_typed(&delta).send();
    group.bench_function("event_center_emit_typed", |b| {
        b.iter(|| emitter.emit_typed(black_box(&delta)).send())
    });

    let events = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(
        CountingLayer {
            events: events.clone(),
        }
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(event_type = "model.delta", "msg");
        assert_eq!(events.load(Ordering::Relaxed), 0);
        group.bench_function("tracing_filtered_out", |b| {
            b.iter(|| tracing::debug!(event_type = black_box("model.delta"), "msg"))
        });
    });
    group.finish();
}

fn one_inline_hook(c: &mut Criterion) {
    let center = EventCenter::new();
    let counter = register_counter(&center, "counter");
    let emitter = center.emitter("Agent");
    emitter.emit("model.completed").send();
    assert_eq!(counter.load(Ordering::Relaxed), 1);

    let mut group = c.benchmark_group("one_inline_hook");
    group.bench_function("event_center", |b| {
        b.iter(|| emitter.emit(black_box("model.completed")).send())
    });

    let events = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(CountingLayer {
        events: events.clone(),
    });
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(event_type = "model.completed", "msg");
        assert_eq!(events.load(Ordering::Relaxed), 1);
        group.bench_function("tracing", |b| {
            b.iter(|| tracing::info!(event_type = black_box("model.completed"), "msg"))
        });
    });
    group.finish();
}

fn thousand_unmatched_plus_one(c: &mut Criterion) {
    let big = center_with_unmatched(1_000);
    let big_counter = register_counter(&big, "counter");
    let big_emitter = big.emitter("Agent");
    assert_eq!(big.hook_names().len(), 1_001);

    let small = EventCenter::new();
    let small_counter = register_counter(&small, "counter");
    let small_emitter = small.emitter("Agent");
    small_emitter.emit("model.completed").send();
    assert_eq!(small_counter.load(Ordering::Relaxed), 1);

    // Only the one hook is reached.
    big_emitter.emit("model.completed").send();
    assert_eq!(big_counter.load(Ordering::Relaxed), 1);
    let delivered: u64 = big.stats().hooks.iter().map(|h| h.delivered).sum();
    assert_eq!(delivered, 1);

    let mut group = c.benchmark_group("thousand_unmatched_plus_one");
    group.bench_function("event_center_1001_hooks", |b| {
        b.iter(|| big_emitter.emit(black_box("model.completed")).send())
    });
    group.bench_function("event_center_1_hook", |b| {
        b.iter(|| small_emitter.emit(black_box("model.completed")).send())
    });
    group.finish();
}

fn async_awaited_hook(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (center, counter) = async_counter_center();
    let emitter = center.emitter("Agent");
    runtime.block_on(emitter.emit("model.completed").send_async());
    assert_eq!(counter.load(Ordering::Relaxed), 1);

    let mut group = c.benchmark_group("async_awaited_hook");
    group.bench_function("event_center", |b| {
        b.to_async(&runtime)
            .iter(|| emitter.emit(black_box("model.completed")).send_async())
    });
    group.finish();
}

fn captured(c: &mut Criterion) {
    let center = EventCenter::new();
    let emitter = center.emitter("Agent");
    let one = center.capture_sync(|| emitter.emit("model.delta").send());
    assert_eq!(one.events.len(), 1);

    let mut group = c.benchmark_group("captured");
    group.bench_function("unmatched_emit_in_capture", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(1024);
                left -= n;
                let started = Instant::now();
                let captured = center.capture_sync(|| {
                    for _ in 0..n {
                        emitter.emit(black_box("model.delta")).send();
                    }
                });
                total += started.elapsed();
                assert_eq!(captured.events.len() as u64, n);
            }
            total
        })
    });
    group.bench_function("scope_of_one_event", |b| {
        b.iter(|| {
            center
                .capture_sync(|| emitter.emit(black_box("model.delta")).send())
                .events
        })
    });
    group.finish();
}

criterion_group! {
    name = emit;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = unmatched, one_inline_hook, thousand_unmatched_plus_one, async_awaited_hook, captured
}
criterion_main!(emit);
