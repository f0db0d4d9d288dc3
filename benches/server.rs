//! The observation server: HTTP ingest beside the real Agently DevTools
//! server on the same batches, the run tree of a 10,000-event run, and how
//! soon a live stream subscriber sees an ingested event.
//!
//! First, outside criterion, the same 10,000 events (batches of 500 in
//! Agently's ingest body, a run with child runs, typical payloads) are
//! posted over loopback by two clients to a real `agently-devtools` 0.2.0 server (from the
//! virtualenv `scripts/devtools_server.sh install` makes) and to this
//! crate's server; the rates (events/s, from the first request until the
//! last answer, each answered only once stored) and their ratio are printed.
//!
//! Groups (criterion):
//! - `server_ingest`: two clients each posting one
//!   `POST /observation/ingest` of 500 new events (fresh ids each time,
//!   bodies built outside the timing) on a keep-alive connection;
//!   throughput in events (target >= 100,000/s).
//! - `server_run_tree`: `GET /observation/runs/{id}/tree` of a run with
//!   10,000 events over 100 child runs (target < 50 ms).
//! - `server_stream_latency`: from posting one event until a subscriber of
//!   `GET /observation/stream` has read it (target < 50 ms).
//!
//! Run: `cargo bench --features server --bench server`.

use event_center_test_support::devtools_server;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use event_center::{Event, ObservationServer, RunContext, ServerHandle};
use serde_json::{json, Value};

/// Events per ingest request, as Agently's clients send them.
const BATCH: usize = 500;
/// Clients posting at once (two agent processes, say).
const CLIENTS: usize = 2;

/// `count` events of one root run and its child runs, as Agently JSON.
fn events(root: &RunContext, count: usize, children: usize) -> Vec<Value> {
    let kids: Vec<RunContext> = (0..children.max(1))
        .map(|_| root.child("model_request"))
        .collect();
    (0..count)
        .map(|i| {
            // The root run's own start, then its children's events.
            let run = if i == 0 { root } else { &kids[i % kids.len()] };
            let event = Event::new(if i % 10 == 0 {
                "tool.called"
            } else {
                "model.delta"
            })
            .with_source("Planner")
            .with_run(run.clone())
            .with_payload(
                json!({"text": "Lisbon in May, three nights", "tokens": i, "model": "gpt-4o-mini"}),
            );
            serde_json::to_value(&event).expect("an event serializes")
        })
        .collect()
}

/// Agently's ingest body for `events`.
fn body(events: &[Value]) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"app_id": "bench", "group_id": "g1", "environment": "bench", "events": events}),
    )
    .expect("a body serializes")
}

/// Posts every body to `url`'s ingest endpoint from `CLIENTS` threads (one
/// keep-alive connection each, the bodies dealt out in turn); the time from
/// the first request until the last answer.
fn post_all(url: &str, bodies: &[Vec<u8>]) -> Duration {
    let endpoint = format!("{url}/observation/ingest");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let endpoint = &endpoint;
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                for body in bodies.iter().skip(client).step_by(CLIENTS) {
                    let response = agent
                        .post(endpoint)
                        .set("Content-Type", "application/json")
                        .send_bytes(body)
                        .expect("the server takes the batch");
                    assert_eq!(response.status(), 200);
                }
            });
        }
    });
    started.elapsed()
}

fn start() -> ServerHandle {
    ObservationServer::builder()
        .with_port(0)
        .build()
        .expect("configure the server")
        .start()
        .expect("start the server")
}

/// The same batches to Agently DevTools and to this crate's server.
fn side_by_side(_: &mut Criterion) {
    let root = RunContext::new("agent_execution");
    let events = events(&root, 10_000, 100);
    let bodies: Vec<Vec<u8>> = events.chunks(BATCH).map(body).collect();

    let agently = devtools_server::DevtoolsServer::start();
    let theirs = events.len() as f64 / post_all(&agently.url(), &bodies).as_secs_f64();
    drop(agently);

    let server = start();
    let ours = events.len() as f64 / post_all(&server.url(), &bodies).as_secs_f64();
    println!(
        "ingest of {} events in batches of {BATCH} from {CLIENTS} clients over loopback: \
         event-center {ours:.0} events/s, agently-devtools 0.2.0 {theirs:.0} events/s ({:.0}x)",
        events.len(),
        ours / theirs
    );
}

fn ingest(c: &mut Criterion) {
    let server = start();
    let url = server.url();
    let root = RunContext::new("agent_execution");
    let mut group = c.benchmark_group("server_ingest");
    group
        .throughput(Throughput::Elements((BATCH * CLIENTS) as u64))
        .sample_size(20);
    group.bench_function("batch_500_2_clients", |b| {
        b.iter_custom(|iters| {
            // New ids every batch: a re-sent event would be skipped.
            let bodies: Vec<Vec<u8>> = (0..iters as usize * CLIENTS)
                .map(|_| body(&events(&root, BATCH, 10)))
                .collect();
            post_all(&url, &bodies)
        })
    });
    group.finish();
}

fn run_tree(c: &mut Criterion) {
    let server = start();
    let root = RunContext::new("agent_execution");
    let all = events(&root, 10_000, 100);
    let bodies: Vec<Vec<u8>> = all.chunks(BATCH).map(body).collect();
    post_all(&server.url(), &bodies);
    let agent = ureq::AgentBuilder::new().build();
    let tree = format!("{}/observation/runs/{}/tree", server.url(), root.run_id);
    let answer: Value = agent
        .get(&tree)
        .call()
        .expect("the tree")
        .into_json()
        .expect("JSON");
    assert_eq!(answer["status"], 200, "{answer}");
    c.bench_function("server_run_tree/10000_events_100_children", |b| {
        b.iter(|| {
            agent
                .get(&tree)
                .call()
                .expect("the tree")
                .into_string()
                .expect("a body")
        })
    });
}

fn stream_latency(c: &mut Criterion) {
    let server = start();
    let url = server.url();
    let (seen, arrivals) = mpsc::channel::<String>();
    let stream = format!("{url}/observation/stream");
    std::thread::spawn(move || {
        let response = ureq::get(&stream).call().expect("open the stream");
        for line in BufReader::new(response.into_reader()).lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data:") {
                if seen.send(data.trim().to_owned()).is_err() {
                    return;
                }
            }
        }
    });
    let agent = ureq::AgentBuilder::new().build();
    let endpoint = format!("{url}/observation/ingest");
    let post = |marker: &str| {
        let event = Event::new("bench.ping").with_payload(json!({"marker": marker}));
        agent
            .post(&endpoint)
            .send_json(json!({"events": [event]}))
            .expect("the server takes the event");
    };
    // The subscriber is connected once a first event comes through; events
    // posted before it subscribed are not replayed, so post until one is.
    let connected = (0..100).any(|_| {
        post("warm-up");
        arrivals.recv_timeout(Duration::from_millis(100)).is_ok()
    });
    assert!(connected, "the stream delivered nothing within 10 s");
    let mut n = 0u64;
    c.bench_function("server_stream_latency/one_event", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let marker = format!("m{n}");
                let started = Instant::now();
                post(&marker);
                loop {
                    let data = arrivals
                        .recv_timeout(Duration::from_secs(10))
                        .expect("the stream delivers within 10 s");
                    if data.contains(&marker) {
                        break;
                    }
                }
                total += started.elapsed();
            }
            total
        })
    });
}

criterion_group!(benches, side_by_side, ingest, run_tree, stream_latency);
criterion_main!(benches);
