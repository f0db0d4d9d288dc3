//! The observation server (feature `server`): Agently DevTools' HTTP API
//! over an embedded SQLite store, live streams and the viewer page.
//!
//! - [`ObservationServer`]: `/observation/ingest`, `/runs`, `/runs/{id}`,
//!   `/runs/{id}/children`, `/runs/{id}/tree`, `/runs/{id}/events`,
//!   `/events/recent`, `/events/{id}/raw`, `/flows/register`,
//!   `/flows/resolve`, `/stream` (server-sent events), `/ws` (websocket),
//!   `/healthz`, and the viewer at `/`; Agently's query parameters,
//!   envelopes, JSON shapes and API-key rules.
//! - [`ObservationStore`]: the store on its own, to move events between
//!   JSONL files and a data directory without HTTP.
//!
//! Every write goes through one storage thread (one transaction per batch,
//! or per chunk of a large one, then published to the streams); reads use
//! their own connections (WAL).

mod budget;
mod compact;
mod error;
mod feed;
mod flows;
mod guard;
mod http;
mod import;
mod ingest;
mod listen;
mod normalize;
mod query;
mod runs;
mod scrub;
mod server;
mod store;
mod stream;
mod writer;

pub use error::{ServerError, ServerErrorKind};
pub use import::{JsonIngest, RefusedText, TextFault};
#[doc(hidden)]
pub use ingest::fuzz_ingest_body;
pub use server::{ObservationServer, ObservationServerBuilder, ServerHandle};
pub use store::{ObservationStore, Retention, StoreExport};
