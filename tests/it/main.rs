//! The library's integration tests, one binary: a module per area, in it a
//! module per behaviour, named as the sentence it checks. The areas of a
//! feature are built with that feature; `support` holds the fixtures they
//! share.

mod support;

mod capture;
mod compat;
mod decision;
mod delivery;
mod events;
mod patterns;
mod redaction;
mod typed;

#[cfg(feature = "devtools-client")]
mod devtools_client;
#[cfg(feature = "jsonl")]
mod jsonl;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod server_security;
#[cfg(feature = "tracing")]
mod tracing_bridge;
#[cfg(feature = "server")]
mod viewer;
#[cfg(feature = "wayfound")]
mod wayfound;
#[cfg(feature = "weni")]
mod weni;
