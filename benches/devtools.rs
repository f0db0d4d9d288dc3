//! The DevTools forwarder's client cost, beside the real server's ingest
//! rate.
//!
//! Groups (criterion):
//! - `devtools_serialize`: building the request body of a batch of 100 and
//!   of 1,000 typical events (a run, a small payload): the sender thread's
//!   serialization and batching (throughput in events; target <= 2 us per
//!   event, serialization and enqueue together).
//! - `devtools_enqueue`: the hook's work per event (`on_event`, called
//!   directly through the guard's hidden bench entry: the high-frequency
//!   check and a push under the buffer's lock) while the sender thread
//!   empties the buffer into a loopback stub server that answers 200, as it
//!   would in a run.
//!
//! First, outside criterion, a real Agently DevTools server (agently-devtools
//! 0.2.0, from the virtualenv `scripts/devtools_server.sh install` makes) is
//! started on a free port, and 20,000 events of a run with child runs go
//! through a center and a registered forwarder (batches of 500). Printed:
//! the server's measured ingest rate (events/s, wall time from the first
//! emit until the flush returned with every event acknowledged), the
//! forwarder's sender thread's CPU per event (batching, serialization and
//! HTTP; Linux schedstat) and the whole client process's CPU per event over
//! the same run (building and emitting the events, the center's worker, the
//! sender; `/proc/self/stat`, 10 ms ticks), so they can be compared.
//!
//! Run: `cargo bench --features devtools-client --bench devtools`.

use event_center_test_support::devtools_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use event_center::{DevtoolsForwarder, Event, EventCenter, RunContext};
use serde_json::json;

/// A typical event: a model request's completion in a child run.
fn event(run: &RunContext, n: u64) -> Arc<Event> {
    Arc::new(
        Event::new("model.completed")
            .with_source("Planner")
            .with_run(run.clone())
            .with_payload(json!({"text": "Lisbon in May", "tokens": n, "model": "gpt-4o-mini"})),
    )
}

fn serialize(c: &mut Criterion) {
    let center = EventCenter::new();
    let forwarder = DevtoolsForwarder::builder("http://127.0.0.1:9")
        .with_app_id("bench")
        .with_group_id("g1")
        .with_environment("bench")
        .with_flush_timeout(Duration::ZERO)
        .register(&center, "devtools")
        .unwrap();
    let run = RunContext::new("agent_execution").child("model_request");
    let mut group = c.benchmark_group("devtools_serialize");
    for n in [100u64, 1000] {
        let events: Vec<Arc<Event>> = (0..n).map(|i| event(&run, i)).collect();
        group.throughput(Throughput::Elements(n));
        group.bench_function(format!("batch_{n}"), |b| {
            b.iter(|| black_box(forwarder.ingest_body(black_box(&events))))
        });
    }
    group.finish();
}

fn enqueue(c: &mut Criterion) {
    let stub = devtools_server::StubServer::start(|_| 200);
    let center = EventCenter::new();
    let forwarder = DevtoolsForwarder::builder(stub.url())
        .with_batch(1000, Duration::from_millis(20))
        .with_buffer(1 << 20)
        .register(&center, "devtools")
        .unwrap();
    let run = RunContext::new("agent_execution").child("model_request");
    let events: Vec<Arc<Event>> = (0..1024).map(|i| event(&run, i)).collect();
    let mut group = c.benchmark_group("devtools_enqueue");
    group.throughput(Throughput::Elements(1));
    group.bench_function("on_event", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for i in 0..iters {
                let _ = forwarder.on_event_for_bench(&events[(i % 1024) as usize]);
            }
            let elapsed = started.elapsed();
            forwarder.flush(Duration::from_secs(60));
            elapsed
        })
    });
    group.finish();
    forwarder.flush(Duration::from_secs(30));
    let stats = forwarder.stats();
    assert_eq!(stats.dropped.total(), 0, "{stats:?}");
    forwarder.shutdown(Duration::from_secs(30));
}

/// User plus system CPU time of this process (all threads).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of the forwarder's sender thread (Linux schedstat, ns).
fn sender_cpu() -> Option<Duration> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "devtools-forwar" {
            let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let ns: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
            return Some(Duration::from_nanos(ns));
        }
    }
    None
}

/// The real server's ingest rate and this client's CPU per event.
fn real_server(_: &mut Criterion) {
    const EVENTS: u64 = 20_000;
    let server = devtools_server::DevtoolsServer::start();
    let center = EventCenter::new();
    let devtools = DevtoolsForwarder::builder(server.url())
        .with_app_id("bench")
        .with_batch(500, Duration::from_millis(20))
        .register(&center, "devtools")
        .unwrap();
    let root = RunContext::new("agent_execution");
    let emitter = center.emitter("Planner").with_run(root.clone());
    let cpu_before = process_cpu();
    let started = Instant::now();
    for step in 0..EVENTS / 100 {
        let child = root.child("model_request");
        for i in 0..100 {
            emitter
                .emit("model.completed")
                .run(child.clone())
                .payload(json!({"text": "Lisbon in May", "step": step, "i": i}))
                .send();
        }
    }
    devtools.flush(Duration::from_secs(600));
    let wall = started.elapsed();
    let stats = devtools.stats();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    assert_eq!((stats.sent, stats.pending), (EVENTS, 0), "{stats:?}");
    let rate = EVENTS as f64 / wall.as_secs_f64();
    println!(
        "devtools/real_server: {EVENTS} events in {} requests, {wall:.2?}: server ingest {rate:.0} events/s",
        stats.requests
    );
    if let Some(cpu) = cpu {
        let per_event = cpu.as_secs_f64() * 1e6 / EVENTS as f64;
        println!(
            "devtools/real_server: client process CPU {cpu:.2?} = {per_event:.2} us/event \
             (emit, center worker, serialization, HTTP); the client could feed {:.0} events/s per core",
            1e6 / per_event
        );
    }
    if let Some(sender) = sender_cpu() {
        println!(
            "devtools/real_server: sender thread CPU {sender:.2?} = {:.2} us/event (batching, serialization, HTTP)",
            sender.as_secs_f64() * 1e6 / EVENTS as f64
        );
    }
    drop(devtools.shutdown(Duration::from_secs(30)));
}

// The real server first: criterion's analysis of earlier groups (its
// worker threads) would otherwise be counted in the process's CPU.
criterion_group!(benches, real_server, serialize, enqueue);
criterion_main!(benches);
