//! What several areas' tests share, written once; a fixture that needs a
//! feature is built with it.

pub mod alone;
pub mod panics;

#[cfg(any(feature = "devtools-client", feature = "server"))]
pub mod devtools_server;
#[cfg(feature = "nats")]
pub mod nats_server;
#[cfg(feature = "server")]
pub mod observation_server;
#[cfg(feature = "otlp")]
pub mod otlp_receiver;
#[cfg(feature = "server")]
pub mod viewer_browser;
#[cfg(feature = "wayfound-http")]
pub mod wayfound_loopback;
