//! Forwards events to an Agently DevTools server (feature `devtools-client`).
//!
//! The hook only queues: it puts the event into the forwarder's own bounded
//! buffer, which a sender thread empties in batches (`POST
//! {server}/observation/ingest`), retrying with a capped exponential backoff
//! while the server is down. When the buffer is full, high-frequency and
//! coalesced events make room first, then the oldest; every drop is counted
//! and reported as an `event_center.events_dropped` event.

mod buffer;
mod builder;
mod error;
mod forwarder;
mod guard;
mod sender;
mod stats;

pub use builder::{DevtoolsBackoff, DevtoolsForwarderBuilder};
pub use error::{DevtoolsError, DevtoolsErrorKind};
pub use forwarder::DevtoolsForwarder;
pub use guard::DevtoolsGuard;
pub use stats::{DevtoolsDropped, DevtoolsStats};
