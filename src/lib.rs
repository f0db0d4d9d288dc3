//! # event-center
//!
//! The observation event center for AI agent frameworks.
//!
//! Frameworks create [`Emitter`]s that stamp each event with its source, its
//! run lineage ([`RunContext`]: run, parent run, root run, session) and a
//! millisecond timestamp. Hooks (devtools, log sinks, exporters, tests)
//! subscribe by event-type [pattern](Pattern) such as `action.*`. An
//! [`EventCenter`] holds a concurrent registry of hooks and delivers each
//! event to those whose patterns match.
//!
//! Events are Agently's ObservationEvent JSON, so Agently's clients and this
//! crate interoperate, and a compatibility layer ([`Compat`]) keeps old names
//! working: legacy `workflow.*` and `trigger_flow.*` events match
//! `triggerflow.*` hooks and back, and `action.*` loop events are mirrored as
//! `tool.*` twins marked in their meta.
//!
//! ```
//! use event_center::{Event, EventCenter, RunContext};
//!
//! let center = EventCenter::new();
//! center
//!     .register_hook("console", "action.*", |event: &Event| {
//!         println!("{} {} {:?}", event.event_type, event.source, event.payload);
//!     })
//!     .unwrap();
//!
//! let run = RunContext::new("agent_execution").with_agent_name("planner");
//! let emitter = center.emitter("Planner").with_run(run);
//! emitter
//!     .emit("action.loop_started")
//!     .payload(serde_json::json!({"goal": "book a flight"}))
//!     .send();
//! ```
//!
//! ## Cost
//!
//! Emitting a type no hook listens to is a cached lookup and builds nothing
//! (payload closures given to [`Emit::payload_with`] are not called). Hooks
//! receive `Arc<Event>`: one allocation per event, never a clone per hook.
//! See the README for the measured numbers.
//!
//! ## Delivery
//!
//! Each hook chooses how it receives events with [`HookOptions`] at
//! registration ([`EventCenter::register_hook_with`]): [`Delivery::Inline`]
//! (called in the emitting thread, the default), [`Delivery::Background`]
//! (a bounded queue and a worker thread of its own, with an [`Overflow`]
//! policy), or [`Delivery::Coalesce`] (Agently's summary policy for
//! high-frequency events, on a worker). A slow background hook never slows
//! the emitter unless it chose [`Overflow::Block`].
//!
//! ```
//! use std::time::Duration;
//! use event_center::{Delivery, Event, EventCenter, HookOptions, Overflow};
//!
//! let center = EventCenter::new();
//! let background = HookOptions::new().with_delivery(Delivery::background(4096, Overflow::DropOldest));
//! center
//!     .register_hook_with("file-sink", "*", background, |event: &Event| {
//!         let _ = serde_json::to_string(event); // write it to a file ...
//!     })
//!     .unwrap();
//! center.emitter("Agent").emit("model.requested").send();
//!
//! // At exit: drain the queues, and know what (if anything) was lost.
//! let report = center.shutdown(Duration::from_secs(5));
//! assert_eq!((report.delivered, report.dropped, report.pending), (1, 0, 0));
//! ```
//!
//! Before any hook sees an event, the center stamps its `seq`, applies the
//! optional [`SizeLimit`] and masks secret-looking values with its
//! [`Redaction`] (on by default; trusted hooks may opt out).
//!
//! ## Guarantees
//!
//! Hooks fail open: a hook that panics or returns an error is counted and
//! reported as an `event_center.hook_failed` event, and the emitter and the
//! other hooks go on. Every event offered to a hook ends as delivered,
//! failed or dropped (counted with its reason and reported as an
//! `event_center.events_dropped` event), and is pending until then:
//! [`EventCenter::stats`], [`EventCenter::flush`] and
//! [`EventCenter::shutdown`] give the numbers. Hooks may emit, register,
//! unregister and flush from inside their callbacks; nesting deeper than a
//! fixed bound is cut and counted. After [`EventCenter::unregister_hook`]
//! returns, no new delivery to that hook starts (its coalescing buffer, if
//! any, is handed over as a last summary rather than lost).
//!
//! ## Other platforms' event models
//!
//! - Scoped capture (Weni's tools): [`EventCenter::capture`] returns a
//!   future's output and exactly the events it emitted.
//! - Typed events (Smallest.ai Atoms): [`TypedEvent`],
//!   [`Emitter::emit_typed`] and [`EventCenter::on`].
//! - Decision hooks (Minded): [`Decisions`] and [`DecisionPoint`], hooks
//!   that return verdicts and fail closed.
//! - Session transcripts (Wayfound) and Weni's Datalake records, behind the
//!   `wayfound` and `weni` features.
//!
//! ```
//! use event_center::EventCenter;
//!
//! let center = EventCenter::new();
//! let emitter = center.emitter("Tool");
//! let captured = center.capture_sync(|| {
//!     emitter.emit("tool.classified").payload(serde_json::json!({"label": "billing"})).send();
//!     "done"
//! });
//! assert_eq!(captured.output, "done");
//! assert_eq!(captured.events[0].payload["label"], "billing");
//! ```
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | (default) | events, patterns, registry, emitters, run lineage, compatibility layer, delivery modes, redaction, scoped capture, typed events, decision hooks |
//! | `weni` | Weni's Datalake records from captured events (`DatalakeRecord`, `DatalakeBatch`) |
//! | `wayfound` | Wayfound session transcripts from a run's events (`Transcript`, `TranscriptMapping`, `SizeBudget`, `WayfoundSession`) |
//! | `wayfound-http` | `WayfoundClient`, which sends them over HTTPS |
//! | `jsonl` | the JSONL file sink with rotation and an fsync policy, and its reader (`JsonlSink`, `read_jsonl`) |
//! | `tracing` | the tracing bridge, both ways (`EventCenterLayer`, `TracingHook`) |
//! | `otlp` | OpenTelemetry export: events as log records, runs as spans (`OtlpExporter`; Rust 1.85) |
//! | `devtools-client` | forwards events to an Agently DevTools server (`DevtoolsForwarder`) |
//! | `server` | the observation server: Agently DevTools' HTTP API, SQLite store, live streams, viewer (Rust 1.89) |
//! | `nats` | NATS JetStream: a sink publishing events, a source feeding a local center (Rust 1.89) |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod capture;
mod center;
mod coalesce;
mod compat;
mod delivery;
#[cfg(feature = "server")]
mod devtools;
mod dispatch;
mod emitter;
mod event;
mod hook;
mod hook_entry;
mod integrations;
mod pattern;
mod redact;
mod registry;
mod run;
mod sinks;
mod sync;
mod text;
mod typed;
mod worker;

pub use capture::Captured;
pub use center::{
    global, CenterStats, Dropped, EventCenter, EventCenterBuilder, FlushReport, HookStats,
    RegisterError, RegisterErrorKind,
};
pub use coalesce::{is_high_frequency, CoalescePolicy};
pub use compat::{AliasFamily, Compat, Mirror};
pub use delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
pub use emitter::{Emit, Emitter};
pub use event::{
    ErrorInfo, Event, EventError, EventErrorKind, EventId, JsonMap, Level, ParseLevelError,
    DEFAULT_SOURCE,
};
pub use hook::{
    AsyncHook, BoxError, BoxFuture, Hook, HookOutput, HookResult, IntoAsyncHook, IntoHook,
};
pub use integrations::decision::{
    DecisionError, DecisionErrorKind, DecisionPoint, Decisions, ErrorDisposition, Qualification,
    Trigger, TurnEnd, VerdictAnswer,
};
#[cfg(feature = "wayfound")]
pub use integrations::wayfound::{
    AppendSessionBody, CreateSessionBody, SizeBudget, Transcript, TranscriptEntry, TranscriptKind,
    TranscriptMapping, TranscriptMappingBuilder, WayfoundRequest, WayfoundSession,
};
#[cfg(feature = "wayfound-http")]
pub use integrations::wayfound::{
    WayfoundClient, WayfoundError, WayfoundErrorKind, WayfoundGrade, WayfoundResponse,
};
#[cfg(feature = "weni")]
pub use integrations::weni::{
    DatalakeBatch, DatalakeError, DatalakeRecord, RejectedRecord, Violation, ViolationKind,
};
pub use pattern::{Pattern, PatternError, PatternErrorKind, PatternSet, Patterns};
pub use redact::{Redaction, SizeLimit};
pub use run::{spawn, spawn_blocking, RunContext};
#[cfg(feature = "devtools-client")]
pub use sinks::devtools::{
    DevtoolsBackoff, DevtoolsDropped, DevtoolsError, DevtoolsErrorKind, DevtoolsForwarder,
    DevtoolsForwarderBuilder, DevtoolsGuard, DevtoolsStats,
};
#[cfg(feature = "jsonl")]
pub use sinks::jsonl::{
    read_jsonl, BadLine, FsyncPolicy, JsonlError, JsonlErrorKind, JsonlGuard, JsonlRead, JsonlSink,
    JsonlSinkBuilder, JsonlStats,
};
#[cfg(feature = "otlp")]
pub use sinks::otlp::{
    OtlpError, OtlpErrorKind, OtlpExporter, OtlpExporterBuilder, OtlpGuard, OtlpStats,
};
#[cfg(feature = "tracing")]
pub use sinks::tracing_bridge::{EventCenterLayer, TracingGuard, TracingHook, TracingHookBuilder};
pub use text::SharedStr;
pub use typed::{TypedError, TypedErrorKind, TypedEvent};
// --- server re-exports (feature server) ---
#[cfg(feature = "server")]
#[doc(hidden)]
pub use devtools::fuzz_ingest_body;
#[cfg(feature = "server")]
pub use devtools::{JsonIngest, RefusedText, TextFault};
#[cfg(feature = "server")]
pub use devtools::{
    ObservationServer, ObservationServerBuilder, ObservationStore, Retention, ServerError,
    ServerErrorKind, ServerHandle, StoreExport,
};
// --- end server re-exports ---
// --- nats re-exports (feature nats) ---
#[cfg(feature = "nats")]
pub use sinks::nats::{
    NatsError, NatsErrorKind, NatsGuard, NatsSink, NatsSinkBuilder, NatsSinkStats, NatsSource,
    NatsSourceBuilder, NatsSourceStats,
};
// --- end nats re-exports ---

/// Markers that tell [`IntoHook`] and [`IntoAsyncHook`] implementations apart.
#[doc(hidden)]
pub mod markers {
    pub use crate::hook::{ClosureMarker, DynMarker, SharedMarker, ValueMarker};
}
