//! The panics tests provoke on purpose, kept quiet: the process's panic
//! hook (set once) skips the messages registered here and prints every
//! other panic as usual.

use std::sync::{Mutex, Once};

static EXPECTED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Keeps panics with exactly this message quiet from now on.
pub fn quiet_expected_panics(message: &'static str) {
    static ONCE: Once = Once::new();
    EXPECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(message);
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let expected = message.is_some_and(|m| {
                EXPECTED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(&m)
            });
            if !expected {
                default(info);
            }
        }));
    });
}
