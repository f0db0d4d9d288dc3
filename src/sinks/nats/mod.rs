//! NATS JetStream (feature `nats`): a sink that publishes events and a
//! source that consumes them into a local center.
