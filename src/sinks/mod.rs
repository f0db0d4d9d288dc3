//! Sinks that plug the center into the Rust and agent ecosystems: each is a
//! hook (or a pair of adapters) behind a cargo feature of its own.

#[cfg(feature = "devtools-client")]
pub(crate) mod devtools;
#[cfg(feature = "jsonl")]
pub(crate) mod jsonl;
#[cfg(feature = "nats")]
pub(crate) mod nats;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_bridge;
