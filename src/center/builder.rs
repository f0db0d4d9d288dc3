//! `EventCenterBuilder`: a center's compatibility tables, redaction and
//! size limit, chosen before it is built.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use crate::compat::Compat;
use crate::redact::{Redaction, SizeLimit};
use crate::registry::Registry;

#[cfg(doc)]
use crate::delivery::HookOptions;

use super::*;

impl EventCenter {
    /// A builder, to choose the compatibility tables.
    ///
    /// ```
    /// use event_center::{Compat, EventCenter};
    /// let plain = EventCenter::builder().with_compat(Compat::none()).build();
    /// # let _ = plain;
    /// ```
    pub fn builder() -> EventCenterBuilder {
        EventCenterBuilder {
            compat: Compat::agently(),
            redaction: Redaction::default(),
            size_limit: None,
        }
    }
}

/// Builds an [`EventCenter`].
///
/// ```
/// use event_center::{Compat, EventCenter, Mirror};
/// let center = EventCenter::builder()
///     .with_compat(Compat::agently().with_mirrors(vec![Mirror::new("action", "tool")]))
///     .build();
/// # let _ = center;
/// ```
#[derive(Clone, Debug)]
pub struct EventCenterBuilder {
    compat: Compat,
    redaction: Redaction,
    size_limit: Option<SizeLimit>,
}

impl EventCenterBuilder {
    /// Sets the compatibility tables (default: [`Compat::agently`]).
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }

    /// Sets the redaction applied to every event before any hook sees it
    /// (default: [`Redaction::default`], on; [`Redaction::none`] turns it
    /// off). Hooks registered with
    /// [`HookOptions::with_redaction(false)`](HookOptions::with_redaction)
    /// see events unredacted.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use event_center::{Event, EventCenter, Redaction};
    ///
    /// let center = EventCenter::builder()
    ///     .with_redaction(Redaction::default().with_key("ssn"))
    ///     .build();
    /// let seen = Arc::new(Mutex::new(None));
    /// let keep = seen.clone();
    /// center
    ///     .register_hook("log", "*", move |e: &Event| *keep.lock().unwrap() = Some(e.payload.clone()))
    ///     .unwrap();
    /// center.emitter("S").emit("user.created").payload(serde_json::json!({"ssn": "123"})).send();
    /// assert_eq!(seen.lock().unwrap().as_ref().unwrap()["ssn"], "[REDACTED]");
    /// ```
    pub fn with_redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// Truncates oversized string values of every event before any hook
    /// sees it (default: no limit); see [`SizeLimit`].
    pub fn with_size_limit(mut self, limit: SizeLimit) -> Self {
        self.size_limit = Some(limit);
        self
    }

    /// Builds the center.
    pub fn build(self) -> EventCenter {
        EventCenter {
            inner: Arc::new(Inner {
                registry: Registry::new(self.compat),
                seq: AtomicU64::new(0),
                recursion_cut: AtomicU64::new(0),
                hook_failures: AtomicU64::new(0),
                redaction: self.redaction,
                size_limit: self.size_limit,
                shut_down: AtomicBool::new(false),
                retired: Mutex::new(Vec::new()),
                typed: Default::default(),
            }),
        }
    }
}
