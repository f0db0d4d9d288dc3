//! The process fixtures the library's and the command-line tool's tests
//! (and the benches) share: a real `nats-server`, a real Agently DevTools
//! server, free ports on 127.0.0.1. Dev-only, and independent of
//! `event-center`: it deals in processes, ports, URLs and JSON.

pub mod devtools_server;
pub mod nats_server;
pub mod ports;
