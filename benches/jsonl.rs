//! The JSONL sink end to end, with `tracing-subscriber`'s JSON formatter as
//! the peer, writing the same kind of file in the same run.
//!
//! Group `jsonl_sustained` (throughput in events/s; target >= 1,000,000
//! and >= 2x the peer):
//! - `event_center_jsonl`: batches of 20,000 emits into a center with one
//!   `JsonlSink` registered (`Background(65,536, Block)`, so the emitter is
//!   paced by the sink and nothing is dropped; `FsyncPolicy::Never`, as the
//!   peer never fsyncs; rotation at 64 MiB, 2 files kept, so the disk use
//!   stays bounded), each batch timed until `guard.flush(timeout)` returns: every
//!   event is then a line written to the file. The sink serializes on its
//!   worker thread, so emitting and writing overlap on two cores.
//! - `tracing_subscriber_json`: the same batches as `tracing::info!` events
//!   with the same fields (event type, source, run id, root run id, agent
//!   name, event id and a two-field payload) through `fmt().json()` into a
//!   `BufWriter<File>` (128 KiB) behind a mutex, formatted and written on
//!   the emitting thread (tracing-subscriber's own writer, no
//!   `tracing-appender`), each batch timed until the `BufWriter` is flushed.
//!   Its file is truncated (outside the timing) when it passes 64 MiB.
//!
//! Both write into one temporary directory under the target directory (the
//! same disk as the build). Run: `cargo bench --features jsonl --bench
//! jsonl`; `python3 benches/medians.py` prints the medians and the ratio.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use event_center::{Delivery, EventCenter, EventId, FsyncPolicy, JsonlSink, Overflow, RunContext};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

/// Events per timed batch.
const BATCH: u64 = 20_000;
/// The event type every bench emits.
const EVENT_TYPE: &str = "model.completed";
/// Files are rotated (the sink) or truncated (the peer) past this size.
const FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// A directory on the build's disk, removed at the end.
fn bench_dir() -> tempfile::TempDir {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).expect("create the target directory");
    tempfile::tempdir_in(target).expect("create a temporary directory")
}

/// The peer's writer: one `BufWriter<File>` behind a mutex, shared with the
/// bench for flushing and truncating.
#[derive(Clone)]
struct SharedFile(Arc<Mutex<BufWriter<File>>>);

struct Locked<'a>(MutexGuard<'a, BufWriter<File>>);

impl Write for Locked<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for SharedFile {
    type Writer = Locked<'a>;
    fn make_writer(&'a self) -> Locked<'a> {
        Locked(self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn jsonl_sustained(c: &mut Criterion) {
    let dir = bench_dir();
    let mut group = c.benchmark_group("jsonl_sustained");
    group
        .throughput(Throughput::Elements(BATCH))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));

    let run = RunContext::new("agent_execution").with_agent_name("planner");

    // The sink.
    let center = EventCenter::new();
    let guard = JsonlSink::builder(dir.path().join("events.jsonl"))
        .with_delivery(Delivery::background(65_536, Overflow::Block))
        .with_fsync(FsyncPolicy::Never)
        .with_rotation(FILE_LIMIT, 2)
        .register(&center, "jsonl")
        .expect("open the sink's file and register the sink");
    let emitter = center.emitter("Planner").with_run(run.clone());
    group.bench_function("event_center_jsonl", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                for i in 0..BATCH {
                    emitter
                        .emit(EVENT_TYPE)
                        .payload(json!({"step": i, "tokens": 42}))
                        .send();
                }
                let report = guard.flush(Duration::from_secs(60));
                assert_eq!(report.pending, 0, "the flush timed out");
            }
            start.elapsed()
        })
    });
    let stats = guard.stats();
    assert_eq!((stats.lost, stats.errors), (0, 0), "{stats:?}");
    drop(guard);

    // The peer.
    let path = dir.path().join("tracing.jsonl");
    let file = File::create(&path).expect("create the peer's file");
    let writer = SharedFile(Arc::new(Mutex::new(BufWriter::with_capacity(
        128 * 1024,
        file,
    ))));
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let run_id = run.run_id.to_string();
    let root_run_id = run.root_run_id.clone().unwrap_or_else(|| run_id.clone());
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing_subscriber_json", |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    for i in 0..BATCH {
                        tracing::info!(
                            event_type = EVENT_TYPE,
                            source = "Planner",
                            event_id = %EventId::new(),
                            run_id = %run_id,
                            root_run_id = %root_run_id,
                            agent_name = "planner",
                            step = i,
                            tokens = 42,
                        );
                    }
                    writer.make_writer().flush().expect("write the peer's file");
                    elapsed += start.elapsed();
                    let mut file = writer.make_writer();
                    let inner = file.0.get_mut();
                    if inner.metadata().map_or(0, |m| m.len()) > FILE_LIMIT {
                        inner.set_len(0).expect("truncate the peer's file");
                        inner.seek(SeekFrom::Start(0)).expect("rewind");
                    }
                }
                elapsed
            })
        });
    });
    group.finish();
}

criterion_group!(benches, jsonl_sustained);
criterion_main!(benches);
