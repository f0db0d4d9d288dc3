//! Wayfound session transcripts from a run's events.
//!
//! Wayfound records an agent's session as a list of transcript entries
//! (`timestamp`, `event_type`, optional `label` and `description`, and free
//! `attributes`) of 14 documented types, posted to its sessions API: one
//! create request, then append requests for the rest. This module turns the
//! events a run emitted into those entries ([`Transcript`], through a
//! [`TranscriptMapping`]), keeps each request under Wayfound's size limit
//! ([`SizeBudget`]), and builds the documented request bodies
//! ([`WayfoundSession`], [`WayfoundRequest`]). With the `wayfound-http`
//! feature, [`WayfoundClient`](crate::WayfoundClient) sends them.

mod budget;
#[cfg(feature = "wayfound-http")]
mod http;
mod session;
mod transcript;

pub use budget::SizeBudget;
#[cfg(feature = "wayfound-http")]
pub use http::{WayfoundClient, WayfoundError, WayfoundErrorKind, WayfoundGrade, WayfoundResponse};
pub use session::{AppendSessionBody, CreateSessionBody, WayfoundRequest, WayfoundSession};
pub use transcript::{
    Transcript, TranscriptEntry, TranscriptKind, TranscriptMapping, TranscriptMappingBuilder,
};
