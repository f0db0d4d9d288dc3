//! The server's resource bounds: memory for work in flight and for the live
//! streams, and the data directory's size.

/// The resource bounds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Limits {}
