//! Typed events (the Smallest.ai Atoms model): being written.

/// Which Rust type each typed event type string stands for, per center.
#[derive(Default)]
pub(crate) struct TypedRegistry {}
