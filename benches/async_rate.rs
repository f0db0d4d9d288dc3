//! Prints the rate of `emitter.emit("model.completed").send_async().await`
//! to one awaited async hook, on a tokio current-thread runtime: the loop
//! `benches/agently_peer.py` times against Agently's EventCenter.
//!
//! Run: `cargo bench --bench async_rate` (iterations: `ASYNC_RATE_N`,
//! default 2,000,000), or through `benches/agently_peer.sh`.

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[path = "support/async_counter.rs"]
mod async_counter;
use async_counter::async_counter_center;

fn main() {
    let n: u64 = std::env::var("ASYNC_RATE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let (center, counter) = async_counter_center();
    let emitter = center.emitter("Agent");

    let elapsed = runtime.block_on(async {
        // Warm-up: the resolution cache, the allocator, the branch predictors.
        for _ in 0..(n / 10).max(1) {
            emitter
                .emit(black_box("model.completed"))
                .send_async()
                .await;
        }
        let start = Instant::now();
        for _ in 0..n {
            emitter
                .emit(black_box("model.completed"))
                .send_async()
                .await;
        }
        start.elapsed()
    });
    assert_eq!(counter.load(Ordering::Relaxed), n + (n / 10).max(1));

    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "event-center: {rate:.0} events/s ({n} awaited emits in {:.3} s, {:.1} ns each)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / n as f64
    );
}
