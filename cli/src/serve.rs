//! `serve`: the observation server until Ctrl-C or SIGTERM, optionally
//! storing the events of a NATS JetStream stream as they come.

use clap::Args;
use event_center::{
    Event, NatsSource, NatsSourceStats, ObservationServer, Retention, ServerError, ServerHandle,
};

use crate::error::CliError;
use crate::store::store_valid;
use crate::{runtime, DataDir, StopSignal};

/// `event-center serve`: the flags Agently DevTools' `start` has (`--host`,
/// `--port`, `--api-key`), and the store's and NATS's.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; anything but loopback should have an API
    /// key.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port (Agently DevTools' own by default; 0 picks a free one).
    #[arg(long, default_value_t = 15596)]
    port: u16,
    /// Require this key on every request (`Authorization: Bearer KEY`,
    /// `X-API-Key: KEY` or `?api_key=KEY`).
    #[arg(
        long,
        value_name = "KEY",
        env = "EVENT_CENTER_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
    /// Let web pages of this origin (`scheme://host[:port]`, e.g.
    /// `http://localhost:3000`) call the server; pages of any other origin
    /// are refused. Repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Answer requests addressed to this host name too (besides the bound
    /// address, localhost and loopback addresses): the names clients use
    /// to reach a server exposed beyond loopback. Repeatable.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_host: Vec<String>,
    #[command(flatten)]
    data_dir: DataDir,
    /// Keep at most this many events (the oldest go first).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Keep the data directory (database and write-ahead log) within about
    /// this many bytes (the oldest events go first).
    #[arg(long, value_name = "N")]
    max_bytes: Option<u64>,
    /// Store events as sent: do not mask the values of secret-looking keys
    /// (`api_key`, `password`, `token`, ...), as ingest does by default.
    #[arg(long)]
    no_redact: bool,
    /// Also store the events of this NATS server's JetStream stream (as
    /// `NatsSink`s publish them, from any number of processes).
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// The subject prefix the producers publish under [default: events].
    #[arg(long, value_name = "P", requires = "nats")]
    nats_prefix: Option<String>,
    /// The JetStream stream [default: EVENTS].
    #[arg(long, value_name = "S", requires = "nats")]
    nats_stream: Option<String>,
    /// The durable consumer: a server restarted with the same name resumes
    /// where it stopped.
    #[arg(
        long,
        value_name = "D",
        requires = "nats",
        default_value = "event-center"
    )]
    nats_durable: String,
}

/// What the NATS fan-in did.
#[derive(Default)]
struct FanIn {
    new: usize,
    duplicates: usize,
    invalid: usize,
}

pub(crate) fn run(args: ServeArgs) -> Result<(), CliError> {
    let data_dir = args.data_dir.resolve()?;
    let mut retention = Retention::unlimited();
    if let Some(max) = args.max_events {
        retention = retention.with_max_events(max);
    }
    if let Some(max) = args.max_bytes {
        retention = retention.with_max_bytes(max);
    }
    let mut builder = ObservationServer::builder()
        .with_host(args.host.as_str())
        .with_port(args.port)
        .with_data_dir(&data_dir)
        .with_retention(retention);
    if let Some(key) = &args.api_key {
        builder = builder.with_api_key(key.as_str());
    }
    // The name given to listen on is one clients use.
    if args.host.parse::<std::net::IpAddr>().is_err() {
        builder = builder.with_allowed_host(args.host.as_str());
    }
    for host in &args.allow_host {
        builder = builder.with_allowed_host(host.as_str());
    }
    for origin in &args.allow_origin {
        builder = builder.with_allowed_origin(origin.as_str());
    }
    raise_open_file_limit();
    if args.no_redact {
        builder = builder.with_redaction(event_center::Redaction::none());
    }
    let server = builder.build()?;
    let runtime = runtime()?;
    let stop = StopSignal::listen(&runtime)?;
    // Connect to NATS before listening: a wrong URL fails at once.
    let source = match &args.nats {
        Some(url) => {
            let mut source = NatsSource::builder(url.as_str(), args.nats_durable.as_str());
            if let Some(prefix) = &args.nats_prefix {
                source = source.with_prefix(prefix.as_str());
            }
            if let Some(stream) = &args.nats_stream {
                source = source.with_stream(stream.as_str());
            }
            Some(runtime.block_on(source.build())?)
        }
        None => None,
    };
    let handle = server.start()?;
    let url = handle.url();
    say!("event-center: serving on {url}");
    say!("  viewer:   {url}/");
    say!("  runs:     {url}/observation/runs");
    say!("  ingest:   {url}/observation/ingest");
    say!("  store:    {}", data_dir.display());
    match (&args.api_key, handle.local_addr().ip().is_loopback()) {
        (Some(_), _) => say!("  API key:  required"),
        (None, true) => say!("  API key:  none (this machine only)"),
        (None, false) => {
            say!("  API key:  NONE: anyone who can reach it can read and write; pass --api-key")
        }
    }
    if args.allow_origin.is_empty() {
        say!("  origins:  this server's own pages only");
    } else {
        say!(
            "  origins:  this server's own pages and {}",
            args.allow_origin.join(", ")
        );
    }
    if args.allow_host.is_empty() {
        say!("  hosts:    its address, localhost and loopback addresses");
    } else {
        say!(
            "  hosts:    its address, localhost, loopback addresses and {}",
            args.allow_host.join(", ")
        );
    }
    if let (Some(source), Some(nats)) = (&source, &args.nats) {
        say!(
            "  NATS:     {nats}, subjects {} as durable `{}`",
            source.filter_subject(),
            args.nats_durable
        );
    }
    say!("Press Ctrl-C to stop.");

    match source {
        Some(source) => {
            let mut fan_in = FanIn::default();
            let stats = runtime.block_on(source.run(stop.wait(), |events| {
                std::future::ready(store_batch(&handle, events, &mut fan_in))
            }));
            print_fan_in(&stats, &fan_in);
        }
        None => runtime.block_on(stop.wait()),
    }
    handle.shutdown();
    say!("event-center: stopped");
    Ok(())
}

/// Raises the soft open-file limit to the hard one, so that the server's
/// connection limit (1,024) is not cut down by a low default soft limit.
fn raise_open_file_limit() {
    #[cfg(unix)]
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!(
            "serve: the open-file limit could not be raised ({error}); serving with it as it is"
        );
    }
}

/// Stores a batch from NATS; the source acks it only once this returned
/// `Ok` (a failure leaves it to be delivered again).
fn store_batch(
    handle: &ServerHandle,
    events: Vec<Event>,
    fan_in: &mut FanIn,
) -> Result<(), ServerError> {
    let stored = tokio::task::block_in_place(|| store_valid(events, |batch| handle.ingest(batch)))
        .inspect_err(|error| {
            eprintln!("serve: a batch from NATS was not stored ({error}); it comes again");
        })?;
    for (event, field) in &stored.invalid {
        eprintln!(
            "serve: event {} (`{}`) from NATS cannot be stored: field `{field}` is not valid; \
             skipped",
            event.event_id, event.event_type
        );
    }
    fan_in.new += stored.new;
    fan_in.duplicates += stored.duplicates;
    fan_in.invalid += stored.invalid.len();
    Ok(())
}

fn print_fan_in(stats: &NatsSourceStats, fan_in: &FanIn) {
    say!(
        "nats: {} events taken ({} new, {} already stored, {} not storable), {} messages not \
         events, {} batches retried",
        stats.delivered,
        fan_in.new,
        fan_in.duplicates,
        fan_in.invalid,
        stats.rejected,
        stats.handler_failures
    );
    if let Some(error) = &stats.last_error {
        say!("nats: last error: {error}");
    }
}
