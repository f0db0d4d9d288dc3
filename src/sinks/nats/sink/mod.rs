//! The sink: a background hook that publishes each event to JetStream, with
//! its publish acks awaited concurrently and failed publishes retried.

mod builder;
mod guard;
mod hook;
mod publisher;
mod shared;

pub use builder::NatsSinkBuilder;
pub use guard::NatsGuard;
pub use hook::NatsSink;
pub use shared::NatsSinkStats;
