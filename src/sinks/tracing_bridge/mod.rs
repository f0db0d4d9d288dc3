//! The tracing bridge, both ways: [`EventCenterLayer`] turns `tracing`
//! events (and, optionally, spans) into center events; [`TracingHook`]
//! re-emits center events through `tracing`.

use std::cell::Cell;

mod callsite;
mod fields;
mod guard;
mod hook;
mod layer;
mod spans;

pub use guard::TracingGuard;
pub use hook::{TracingHook, TracingHookBuilder};
pub use layer::EventCenterLayer;

thread_local! {
    /// Set while this thread is inside the bridge (a layer emitting into a
    /// center, or a hook re-emitting into `tracing`): tracing events raised
    /// meanwhile on this thread are not turned into center events.
    static BRIDGING: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as inside the bridge until dropped.
struct Bridging {
    was: bool,
}

impl Bridging {
    fn enter() -> Bridging {
        Bridging {
            was: BRIDGING.with(|b| b.replace(true)),
        }
    }

    fn active() -> bool {
        BRIDGING.with(Cell::get)
    }
}

impl Drop for Bridging {
    fn drop(&mut self) {
        BRIDGING.with(|b| b.set(self.was));
    }
}
