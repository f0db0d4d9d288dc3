//! What the sinks' guards need from the center: registering a hook and
//! keeping its entry, waiting for that one hook's queue, its report, and
//! unregistering exactly that hook.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::delivery::HookOptions;
use crate::hook::{Hook, HookFn};
use crate::hook_entry::HookEntry;
use crate::pattern::Patterns;
use crate::text::SharedStr;

#[cfg(feature = "tracing")]
use super::stats::hook_stats;
use super::*;

impl EventCenter {
    /// Registers a sink's hook (never replacing one) and returns its entry.
    pub(crate) fn register_entry(
        &self,
        name: &str,
        patterns: Patterns,
        options: HookOptions,
        hook: Arc<dyn Hook>,
    ) -> Result<Arc<HookEntry>, RegisterError> {
        self.insert(
            SharedStr::from(name.to_owned()),
            patterns,
            HookFn::Sync(hook),
            options,
            false,
        )
        .map(|(entry, _)| entry)
    }

    /// Unregisters `entry` if it is still the hook registered under its
    /// name, as [`unregister_hook`](EventCenter::unregister_hook) would; a
    /// hook registered under that name since is left alone.
    pub(crate) fn unregister_entry(&self, entry: &HookEntry) -> bool {
        match self.inner.registry.remove_id(entry.shared.id) {
            Some(entry) => {
                self.inner.retire(&entry);
                entry.hook.on_unregister(&entry.shared.name);
                true
            }
            None => false,
        }
    }

    /// Waits until `entry`'s queue is drained and its coalescing buffer
    /// flushed (events queued meanwhile included), or until `deadline`;
    /// false if the deadline came first. A hook without a worker (inline,
    /// or queued but never sent an event) has nothing to wait for.
    pub(crate) fn wait_hook(&self, entry: &HookEntry, deadline: Instant) -> bool {
        let Some(worker) = entry.worker.get() else {
            return true;
        };
        loop {
            let ticket = worker.ask_flush();
            if !worker.wait_flushed(ticket, deadline) {
                return false;
            }
            if entry.shared.counters.pending.load(Ordering::Acquire) == 0 || worker.is_finished() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
    }

    /// Waits until the worker of an unregistered `entry` has ended (what it
    /// still held is then counted), or until `deadline`.
    pub(crate) fn wait_retired(&self, entry: &HookEntry, deadline: Instant) -> bool {
        entry
            .worker
            .get()
            .is_none_or(|worker| worker.wait_finished(deadline))
    }
}

/// `entry`'s counts as a [`FlushReport`] of that one hook.
pub(crate) fn hook_report(entry: &Arc<HookEntry>, elapsed: Duration) -> FlushReport {
    FlushReport::of(std::slice::from_ref(entry), elapsed)
}

/// `entry`'s counters.
#[cfg(feature = "tracing")]
pub(crate) fn entry_stats(entry: &HookEntry) -> HookStats {
    hook_stats(entry)
}
