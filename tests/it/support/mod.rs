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

use std::sync::{Arc, Mutex};

use event_center::{Event, EventCenter, Patterns, SharedStr};

/// Registers an inline hook `name` on `patterns` that keeps a copy of every
/// event it receives, and returns that list.
pub fn record(
    center: &EventCenter,
    name: impl Into<SharedStr>,
    patterns: impl Into<Patterns>,
) -> Arc<Mutex<Vec<Event>>> {
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    center
        .register_hook(name, patterns, move |e: &Event| {
            sink.lock().unwrap().push(e.clone())
        })
        .unwrap();
    seen
}
