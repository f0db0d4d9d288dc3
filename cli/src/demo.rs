//! `demo`: an observation server, its viewer, and a simulated multi-agent
//! workload reporting to it through the HTTP ingest path (the
//! `DevtoolsForwarder`, as an app talking to Agently DevTools would).
//!
//! Each round is a planner agent's run: an action loop (whose
//! `action.loop_*` events the center mirrors as `tool.loop_*` twins), a
//! streamed model request (`model.response.delta` events), and two child
//! agents with their own tool and model runs, one tool call failing once
//! and retried.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use event_center::{
    DevtoolsForwarder, Emit, Emitter, ErrorInfo, EventCenter, Level, ObservationServer, RunContext,
};
use serde_json::{json, Value};

use crate::error::CliError;
use crate::{runtime, StopSignal};

/// Pauses of the live workload (none with `--events`).
const DELTA_PAUSE: Duration = Duration::from_millis(40);
const TOOL_PAUSE: Duration = Duration::from_millis(300);
const ROUND_PAUSE: Duration = Duration::from_secs(2);
/// Unsent events above which the workload waits for the forwarder.
const BACKLOG: u64 = 16_384;
/// The trips the planner plans, in turn.
const CITIES: [&str; 4] = ["Lisbon", "Kyoto", "Oaxaca", "Tallinn"];

/// `event-center demo [--port P] [--events N] [--data-dir DIR]`.
#[derive(Args)]
pub(crate) struct DemoArgs {
    /// The server's port (0 picks a free one).
    #[arg(long, default_value_t = 15596)]
    port: u16,
    /// Stop once the agents emitted this many events (the round under way
    /// is finished), without pauses, and exit once all are stored.
    #[arg(long, value_name = "N")]
    events: Option<u64>,
    /// Keep the events in this directory (`serve --data-dir DIR` shows them
    /// again) [default: a temporary one, removed at exit].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) fn run(args: DemoArgs) -> Result<(), CliError> {
    let runtime = runtime()?;
    let signal = StopSignal::listen(&runtime)?;
    let mut builder = ObservationServer::builder().with_port(args.port);
    if let Some(dir) = &args.data_dir {
        builder = builder.with_data_dir(dir);
    }
    let server = builder.build()?.start()?;
    let url = server.url();
    say!("event-center demo: open {url}/ to watch a planner agent and the agents it starts");
    say!("  Agently DevTools' API: {url}/observation/runs (Ctrl-C to stop)");

    let center = EventCenter::new();
    let devtools = DevtoolsForwarder::builder(url.as_str())
        .with_app_id("event-center-demo")
        .with_group_id("demo")
        .with_batch(256, Duration::from_millis(50))
        .register(&center, "devtools")?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = Arc::clone(&stop);
    runtime.spawn(async move {
        signal.wait().await;
        stopper.store(true, Ordering::SeqCst);
    });

    let mut workload = Workload {
        center: &center,
        stop: &stop,
        live: args.events.is_none(),
        emitted: 0,
    };
    let mut round = 0;
    while !workload.stopped() && args.events.is_none_or(|n| workload.emitted < n) {
        round += 1;
        let before = workload.emitted;
        let root = workload.round(round);
        say!(
            "round {round}: {} events, run tree at {url}/observation/runs/{root}/tree",
            workload.emitted - before
        );
        if devtools.stats().pending > BACKLOG {
            devtools.flush(Duration::from_secs(30));
        }
        workload.pause(ROUND_PAUSE);
    }

    let emitted = workload.emitted;
    // Events the center's queue in front of the forwarder dropped never
    // reached it: count them too.
    let queue_dropped: u64 = center.stats().hooks.iter().map(|h| h.dropped.total()).sum();
    // The forwarder's numbers once everything was sent (or the wait ended):
    // what is still unsent then is lost with the shutdown.
    devtools.flush(Duration::from_secs(30));
    let stats = devtools.stats();
    devtools.shutdown(Duration::from_secs(30));
    server.shutdown();
    let lost = stats.accepted - stats.sent + queue_dropped;
    if lost > 0 {
        return Err(CliError::Incomplete(format!(
            "{lost} events were not stored ({} dropped, {} unsent; last error: {}); check the \
             disk and run the demo again",
            stats.dropped.total() + queue_dropped,
            stats.pending,
            stats.last_error.as_deref().unwrap_or("none"),
        )));
    }
    say!(
        "stored {} events: {emitted} from the agents in {round} rounds, {} tool.* twins the \
         center mirrored",
        stats.sent,
        stats.sent.saturating_sub(emitted)
    );
    Ok(())
}

/// The simulated agents: emits through `center`, counting, pausing when
/// `live` (until `stop`).
struct Workload<'a> {
    center: &'a EventCenter,
    stop: &'a AtomicBool,
    live: bool,
    emitted: u64,
}

impl Workload<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `pause` when live, waking early at a stop.
    fn pause(&self, pause: Duration) {
        let slice = Duration::from_millis(50);
        let mut left = if self.live { pause } else { Duration::ZERO };
        while !left.is_zero() && !self.stopped() {
            let now = left.min(slice);
            std::thread::sleep(now);
            left -= now;
        }
    }

    fn send(&mut self, emit: Emit<'_>) {
        emit.send();
        self.emitted += 1;
    }

    /// One planner run with its child agents; returns the root run's id.
    fn round(&mut self, round: u64) -> String {
        let city = CITIES[((round - 1) % CITIES.len() as u64) as usize];
        let root = RunContext::new("agent_execution")
            .with_agent_id("planner")
            .with_agent_name("planner")
            .with_session_id(format!("demo-session-{round}"));
        let planner = self.center.emitter("Planner").with_run(root.clone());
        self.send(
            planner
                .emit("agent_execution.started")
                .message(format!("plan a weekend in {city}"))
                .payload(json!({"round": round, "city": city})),
        );
        self.send(
            planner
                .emit("action.loop_started")
                .payload(json!({"goal": format!("a weekend in {city}"), "max_steps": 4})),
        );
        self.model(
            &planner,
            &root,
            &format!("First research flights and hotels in {city}, then book the best pair."),
        );
        self.send(
            planner
                .emit("action.plan_ready")
                .payload(json!({"steps": ["research", "book"]})),
        );

        let (researcher, run) = self.child_agent(&root, "researcher", "Researcher");
        self.tool(
            &researcher,
            &run,
            "search_flights",
            json!({"to": city}),
            Ok(json!({"flights": 3, "cheapest_eur": 89 + round % 40})),
        );
        self.tool(
            &researcher,
            &run,
            "search_hotels",
            json!({"city": city, "nights": 2}),
            Ok(json!({"hotels": 5, "best": format!("Hotel {city} Central")})),
        );
        self.model(
            &researcher,
            &run,
            &format!("The morning flight and Hotel {city} Central fit the budget."),
        );
        self.send(
            researcher
                .emit("agent_execution.completed")
                .payload(json!({"picked": format!("Hotel {city} Central")})),
        );

        let (booker, run) = self.child_agent(&root, "booker", "Booker");
        let booking = json!({"hotel": format!("Hotel {city} Central"), "nights": 2});
        let timeout = ErrorInfo::new("TimeoutError", "the hotel API did not answer in 5 s")
            .with_retryable(true)
            .with_code("HOTEL_TIMEOUT");
        self.tool(&booker, &run, "book_hotel", booking.clone(), Err(timeout));
        self.send(booker.warning("book_hotel timed out; retrying once"));
        self.tool(
            &booker,
            &run,
            "book_hotel",
            booking,
            Ok(json!({"confirmation": format!("HX-{round:05}")})),
        );
        self.send(booker.emit("agent_execution.completed").message("booked"));

        self.send(
            planner
                .emit("action.loop_completed")
                .payload(json!({"steps": 2, "result": "booked"})),
        );
        self.send(
            planner
                .emit("agent_execution.completed")
                .message(format!("the weekend in {city} is planned")),
        );
        root.run_id
    }

    /// A child agent's run, started.
    fn child_agent(
        &mut self,
        root: &RunContext,
        name: &str,
        source: &str,
    ) -> (Emitter, RunContext) {
        let run = root
            .child("agent_execution")
            .with_agent_id(name)
            .with_agent_name(name);
        let emitter = self.center.emitter(source.to_owned()).with_run(run.clone());
        self.send(
            emitter
                .emit("agent_execution.started")
                .message(format!("{name} at work")),
        );
        (emitter, run)
    }

    /// A streamed model request under `parent`: one delta per word.
    fn model(&mut self, emitter: &Emitter, parent: &RunContext, text: &str) {
        let run = parent.child("model_request");
        self.send(
            emitter
                .emit("model.requesting")
                .run(run.clone())
                .payload(json!({"model": "demo-model", "stream": true})),
        );
        let mut tokens = 0;
        for (index, delta) in text.split_inclusive(' ').enumerate() {
            self.send(
                emitter
                    .emit("model.response.delta")
                    .run(run.clone())
                    .payload(json!({"delta": delta, "index": index})),
            );
            tokens += 1;
            self.pause(DELTA_PAUSE);
        }
        self.send(emitter.emit("model.completed").run(run).payload(
            json!({"text": text, "usage": {"input_tokens": 120, "output_tokens": tokens}}),
        ));
    }

    /// A tool run under `parent` that ends with `outcome`.
    fn tool(
        &mut self,
        emitter: &Emitter,
        parent: &RunContext,
        name: &str,
        arguments: Value,
        outcome: Result<Value, ErrorInfo>,
    ) {
        let run = parent.child("tool_execution");
        self.send(
            emitter
                .emit("tool.started")
                .run(run.clone())
                .payload(json!({"name": name, "arguments": arguments})),
        );
        self.pause(TOOL_PAUSE);
        let end = match outcome {
            Ok(result) => emitter
                .emit("tool.completed")
                .run(run)
                .payload(json!({"name": name, "result": result})),
            Err(error) => emitter
                .emit("tool.failed")
                .level(Level::Error)
                .message(format!("{name} failed: {}", error.message))
                .run(run)
                .payload(json!({"name": name}))
                .error(error),
        };
        self.send(end);
    }
}
