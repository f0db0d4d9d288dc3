//! The tracing bridge's cost, with plain `tracing` as the peer.
//!
//! Groups (each `tracing::info!` has the same three fields and a message):
//! - `into_center_unlistened`: a registry with an `EventCenterLayer` whose
//!   center has a hook on another family, so nobody listens: the layer
//!   works out the type and asks the center, and builds nothing (checked
//!   before benchmarking: zero allocations). With an `event_type` field and
//!   with a type derived from the target. Peer: the same event into a bare
//!   registry, and into a registry with a layer that visits the fields.
//! - `into_center_listened`: the same, with one inline no-op hook
//!   listening: the event is built (fields typed into the payload) and
//!   delivered. Peer: the field-visiting layer.
//! - `out_of_center`: `emitter.emit(..).send()` to an inline `TracingHook`
//!   into a subscriber with the field-visiting layer, next to the emit to a
//!   no-op inline hook and to a direct `tracing::info!` with the same fields.
//!
//! Run: `cargo bench --features tracing --bench tracing_bridge`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use event_center::{Delivery, Event, EventCenter, EventCenterLayer, RunContext, TracingHook};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations_during;

/// The peer layer: visits every field and counts the event.
struct Visiting(Arc<AtomicU64>);

struct Fields(u32);

impl Visit for Fields {
    fn record_str(&mut self, _: &Field, value: &str) {
        self.0 += 1;
        black_box(value);
    }

    fn record_debug(&mut self, _: &Field, value: &dyn fmt::Debug) {
        self.0 += 1;
        black_box(value);
    }
}

impl<S: tracing::Subscriber> Layer<S> for Visiting {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(0);
        event.record(&mut fields);
        black_box(fields.0);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

macro_rules! typed_event {
    () => {
        tracing::info!(
            event_type = black_box("order.created"),
            order_id = 42u64,
            paid = true,
            "order created"
        )
    };
}

macro_rules! derived_event {
    () => {
        tracing::info!(target: "myapp::db", order_id = 42u64, paid = true, "order created")
    };
}

fn counting_hook(center: &EventCenter, pattern: &str) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    center
        .register_hook("count", pattern, move |_: &Event| {
            seen.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    count
}

fn into_center_unlistened(c: &mut Criterion) {
    let mut group = c.benchmark_group("into_center_unlistened");
    let center = EventCenter::new();
    let other = counting_hook(&center, "billing.*");
    let subscriber = tracing_subscriber::registry().with(EventCenterLayer::new(&center));
    tracing::subscriber::with_default(subscriber, || {
        typed_event!();
        derived_event!();
        let allocations = allocations_during(|| {
            for _ in 0..1000 {
                typed_event!();
                derived_event!();
            }
        });
        assert_eq!(allocations, 0, "an unlistened event allocates nothing");
        assert_eq!(other.load(Ordering::Relaxed), 0);
        assert_eq!(center.stats().last_seq, 0);
        group.bench_function("layer_event_type_field", |b| b.iter(|| typed_event!()));
        group.bench_function("layer_derived_type", |b| b.iter(|| derived_event!()));
    });

    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        group.bench_function("bare_registry", |b| b.iter(|| typed_event!()));
    });
    let visited = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(Visiting(visited.clone()));
    tracing::subscriber::with_default(subscriber, || {
        typed_event!();
        assert_eq!(visited.load(Ordering::Relaxed), 1);
        group.bench_function("visiting_layer", |b| b.iter(|| typed_event!()));
    });
    group.finish();
}

fn into_center_listened(c: &mut Criterion) {
    let mut group = c.benchmark_group("into_center_listened");
    let center = EventCenter::new();
    let orders = counting_hook(&center, "*");
    let subscriber = tracing_subscriber::registry().with(EventCenterLayer::new(&center));
    tracing::subscriber::with_default(subscriber, || {
        typed_event!();
        derived_event!();
        assert_eq!(orders.load(Ordering::Relaxed), 2);
        group.bench_function("layer_event_type_field", |b| b.iter(|| typed_event!()));
        group.bench_function("layer_derived_type", |b| b.iter(|| derived_event!()));
    });
    let visited = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(Visiting(visited.clone()));
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("visiting_layer", |b| b.iter(|| typed_event!()));
    });
    group.finish();
}

fn out_of_center(c: &mut Criterion) {
    let mut group = c.benchmark_group("out_of_center");
    let run = RunContext::new("agent_execution");
    let run_id = run.run_id.clone();

    let noop = EventCenter::new();
    counting_hook(&noop, "model.*");
    let noop_emitter = noop.emitter("Planner").with_run(run.clone());
    group.bench_function("emit_to_noop_hook", |b| {
        b.iter(|| noop_emitter.emit(black_box("model.completed")).send())
    });

    let center = EventCenter::new();
    let _tracing = TracingHook::builder()
        .with_delivery(Delivery::Inline)
        .with_patterns("model.*")
        .register(&center, "tracing")
        .unwrap();
    let emitter = center.emitter("Planner").with_run(run);
    let visited = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(Visiting(visited.clone()));
    tracing::subscriber::with_default(subscriber, || {
        emitter.emit("model.completed").send();
        assert_eq!(visited.load(Ordering::Relaxed), 1);
        group.bench_function("emit_to_tracing_hook", |b| {
            b.iter(|| emitter.emit(black_box("model.completed")).send())
        });
        group.bench_function("tracing_info_same_fields", |b| {
            b.iter(|| {
                tracing::info!(
                    target: "event_center",
                    event_type = black_box("model.completed"),
                    source = "Planner",
                    event_id = %"01a23192f97e74cea9b97cc1eed071ae",
                    run_id = run_id.as_str(),
                )
            })
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    into_center_unlistened,
    into_center_listened,
    out_of_center
);
criterion_main!(benches);
