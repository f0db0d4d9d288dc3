//! The observation server under attack, as a hostile client, another web
//! page or an overloaded machine would try it: each module reproduces one
//! attack in bounded time and checks what must hold afterwards.

use crate::support::observation_server as server;
use crate::support::viewer_browser as browser;

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
