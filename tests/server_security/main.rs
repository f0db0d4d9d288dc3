//! The observation server under attack, as a hostile client, another web
//! page or an overloaded machine would try it: each module reproduces one
//! attack in bounded time and checks what must hold afterwards.

#[path = "../viewer_browser/mod.rs"]
mod browser;
#[path = "../observation_server/mod.rs"]
mod server;

mod child;
mod compaction;
mod disk;
mod memory;
mod origins;
mod quadratic;
mod redaction;
mod round_trip;
mod slow_clients;
mod small_fixes;
