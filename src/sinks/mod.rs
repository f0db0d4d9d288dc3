//! Sinks that plug the center into the Rust and agent ecosystems: each is a
//! hook (or a pair of adapters) behind a cargo feature of its own.
//!
//! Every sink has one shape: a builder whose `register(&center, name)`
//! returns a guard, the sink's only handle, with `flush(timeout)`,
//! `stats()` and `shutdown(timeout)`, which flushes on drop
//! (`registration` holds what the guards share).

#[cfg(feature = "devtools-client")]
pub(crate) mod devtools;
#[cfg(feature = "jsonl")]
pub(crate) mod jsonl;
#[cfg(feature = "nats")]
pub(crate) mod nats;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
#[cfg(any(
    feature = "jsonl",
    feature = "nats",
    feature = "otlp",
    feature = "tracing",
    feature = "devtools-client"
))]
pub(crate) mod registration;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_bridge;
