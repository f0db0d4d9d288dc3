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
//! ## Guarantees
//!
//! Hooks fail open: a hook that panics or returns an error is counted and
//! reported as an `event_center.hook_failed` event, and the emitter and the
//! other hooks go on. Hooks may emit, register and unregister from inside
//! their callbacks; nesting deeper than a fixed bound is cut and counted.
//! After [`EventCenter::unregister_hook`] returns, no new delivery to that
//! hook starts.
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | (default) | events, patterns, registry, emitters, run lineage, compatibility layer |

#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod center;
mod coalesce;
mod compat;
mod delivery;
mod dispatch;
mod emitter;
mod event;
mod hook;
mod pattern;
mod redact;
mod registry;
mod run;
mod text;
mod worker;

pub use center::{
    global, CenterStats, Dropped, EventCenter, EventCenterBuilder, FlushReport, HookStats,
    RegisterError, RegisterErrorKind,
};
pub use delivery::{Delivery, HookOptions, Overflow, DEFAULT_CAPACITY};
pub use coalesce::{is_high_frequency, CoalescePolicy};
pub use compat::{AliasFamily, Compat, Mirror};
pub use emitter::{Emit, Emitter};
pub use event::{
    ErrorInfo, Event, EventError, EventErrorKind, EventId, JsonMap, Level, ParseLevelError,
    DEFAULT_SOURCE,
};
pub use hook::{
    AsyncHook, BoxError, BoxFuture, Hook, HookOutput, HookResult, IntoAsyncHook, IntoHook,
};
pub use pattern::{Pattern, PatternError, PatternErrorKind, PatternSet, Patterns};
pub use redact::{Redaction, SizeLimit};
pub use run::{spawn, spawn_blocking, RunContext};
pub use text::SharedStr;

/// Markers that tell [`IntoHook`] and [`IntoAsyncHook`] implementations apart.
#[doc(hidden)]
pub mod markers {
    pub use crate::hook::{ClosureMarker, DynMarker, ValueMarker};
}
