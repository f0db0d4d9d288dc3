//! What several areas' tests share, written once; a fixture that needs a
//! feature is built with it. The process fixtures the command-line tool's
//! tests use too (nats-server, the Agently DevTools server, free ports) are
//! in the event-center-test-support crate.

pub mod alone;
pub mod panics;

#[cfg(feature = "server")]
pub mod observation_server;
#[cfg(feature = "otlp")]
pub mod otlp_receiver;
#[cfg(feature = "server")]
pub mod viewer_browser;
#[cfg(feature = "wayfound-http")]
pub mod wayfound_loopback;
