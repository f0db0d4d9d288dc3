//! Model test of the registry's publication protocol: loom runs the real
//! `Registry` (snapshot, resolution cache, per-thread silent memo, writer
//! lock) under every interleaving of a writer and a reader, with every
//! outcome the memory orderings allow.
//!
//! ```text
//! RUSTFLAGS="--cfg event_center_loom" cargo test --release --lib loom_model
//! ```
//!
//! The search is exhaustive (no preemption bound); `LOOM_MAX_PREEMPTIONS`
//! bounds it if the model ever grows too slow.
//!
//! Checked:
//! - after `remove` (unregister) returns, no emit that starts afterwards, in
//!   the same thread or in one that synchronizes with it, calls the removed
//!   hook (resolved and still active, as `deliver` decides), and no lookup
//!   even resolves it;
//! - a resolution computed from a stale snapshot never survives in the cache
//!   under the new generation: once the threads are done the cache matches
//!   the snapshot, and after `insert` returns every lookup that synchronizes
//!   with it sees the new hook;
//! - after `insert` makes a type listened, a thread that synchronizes with
//!   the insert never answers `known_silent` for it from a memo it filled
//!   before.

use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;

use loom::sync::atomic::AtomicBool;
use loom::thread;

use super::{Registry, Resolved};
use crate::compat::Compat;
use crate::delivery::HookOptions;
use crate::event::Event;
use crate::hook::{Hook, HookFn, HookResult};
use crate::hook_entry::HookEntry;
use crate::pattern::PatternSet;
use crate::text::SharedStr;

/// The event type emitted, kept in a static so that every use is the same
/// literal (same address), as the silent memo requires.
static TYPE: &str = "a.b";

fn event_type() -> SharedStr {
    SharedStr::from_static(TYPE)
}

struct Noop;

impl Hook for Noop {
    fn on_event(&self, _: &Arc<Event>) -> HookResult {
        Ok(())
    }
}

/// A hook named `name` that listens to `TYPE`.
fn hook(registry: &Registry, name: &'static str) -> Arc<HookEntry> {
    let patterns = PatternSet::new(TYPE).expect("a valid pattern");
    HookEntry::new(
        registry.next_hook_id(),
        SharedStr::from_static(name),
        patterns,
        HookFn::Sync(Arc::new(Noop)),
        HookOptions::default(),
    )
}

/// The ids of the hooks that resolution would call, decided as
/// `dispatch::deliver` decides it: every resolved hook that is still active
/// when its turn comes, then the twin's.
fn called(resolved: &Resolved, ids: &mut Vec<u64>) {
    for entry in resolved.hooks.iter() {
        if entry.shared.is_active() {
            ids.push(entry.shared.id);
        }
    }
    if let Some(twin) = &resolved.twin {
        called(&twin.resolved, ids);
    }
}

/// What an emit of `TYPE` would call, through the synchronous path of
/// `EventCenter::emit_event` (`if_listened`, then `deliver`).
fn emit(registry: &Registry) -> Vec<u64> {
    let mut ids = Vec::new();
    registry.if_listened(&event_type(), |resolved| called(resolved, &mut ids));
    ids
}

/// What an emit of `TYPE` would call, through the asynchronous path of
/// `EventCenter::emit_event_async` (`listened`, then `deliver_async`).
fn emit_async(registry: &Registry) -> Vec<u64> {
    let mut ids = Vec::new();
    if let Some(resolved) = registry.listened(&event_type()) {
        called(&resolved, &mut ids);
    }
    ids
}

fn ids(hooks: &[Arc<HookEntry>]) -> Vec<u64> {
    hooks.iter().map(|entry| entry.shared.id).collect()
}

/// Once every thread is done: the published generation, the snapshot and
/// the cache agree, and every cached resolution is what the snapshot gives.
fn assert_cache_matches_snapshot(registry: &Registry) {
    let generation = registry.generation.load(Acquire);
    let snapshot = registry.snapshot.load_full();
    let cache = registry.cache.load_full();
    assert_eq!(
        snapshot.generation, generation,
        "snapshot behind generation"
    );
    assert_eq!(cache.generation, generation, "cache not of the generation");
    for (event_type, resolved) in cache.map.iter() {
        let fresh = registry.compute(&snapshot, event_type, true);
        assert_eq!(
            ids(&resolved.hooks),
            ids(&fresh.hooks),
            "stale resolution of `{event_type}` cached under generation {generation}"
        );
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

/// A reader emits while a writer unregisters the hook. After `remove`
/// returns, neither the writer nor a reader that saw its flag calls the
/// hook, or even resolves it.
fn unregister_race(emit_with: fn(&Registry) -> Vec<u64>) {
    model(move || {
        let registry = Arc::new(Registry::new(Compat::default()));
        let entry = hook(&registry, "h");
        let id = entry.shared.id;
        assert!(registry.insert(entry, false).is_ok());
        let removed = Arc::new(AtomicBool::new(false));

        let reader = {
            let (registry, removed) = (registry.clone(), removed.clone());
            thread::spawn(move || {
                let _ = emit_with(&registry);
                if removed.load(Acquire) {
                    assert!(!emit_with(&registry).contains(&id), "called after remove");
                    let resolved = registry.resolved(TYPE);
                    assert!(!ids(&resolved.hooks).contains(&id), "resolved after remove");
                }
            })
        };

        let removed_entry = registry.remove("h").expect("registered");
        assert_eq!(removed_entry.shared.id, id);
        removed.store(true, Release);
        assert!(!emit_with(&registry).contains(&id), "called after remove");

        reader.join().expect("reader");
        assert_cache_matches_snapshot(&registry);
        assert!(emit_with(&registry).is_empty());
        assert!(registry.resolved(TYPE).hooks.is_empty());
    });
}

#[test]
fn no_delivery_starts_after_unregister_returns() {
    unregister_race(emit);
}

#[test]
fn no_async_delivery_starts_after_unregister_returns() {
    unregister_race(emit_async);
}

/// A reader emits (filling the cache and its silent memo) while a writer
/// registers a hook. After `insert` returns, neither the writer nor a reader
/// that saw its flag misses the hook or answers from a stale memo.
#[test]
fn register_is_seen_and_clears_the_silent_memo() {
    model(|| {
        let registry = Arc::new(Registry::new(Compat::default()));
        let entry = hook(&registry, "h");
        let id = entry.shared.id;
        let inserted = Arc::new(AtomicBool::new(false));

        let reader = {
            let (registry, inserted) = (registry.clone(), inserted.clone());
            thread::spawn(move || {
                let _ = emit(&registry);
                if inserted.load(Acquire) {
                    assert!(
                        !registry.known_silent(&event_type()),
                        "silent memo outlived the register"
                    );
                    assert_eq!(emit(&registry), vec![id], "register not seen");
                }
            })
        };

        assert!(registry.insert(entry, false).is_ok());
        inserted.store(true, Release);
        assert_eq!(emit(&registry), vec![id]);

        reader.join().expect("reader");
        assert_cache_matches_snapshot(&registry);
        assert_eq!(emit(&registry), vec![id]);
    });
}

/// A reader emits while a writer replaces the hook with a new one of the
/// same name. After `insert(.., replace)` returns, the old hook is called by
/// no emit that synchronizes with it, and the new one is.
#[test]
fn replace_switches_hooks_when_it_returns() {
    model(|| {
        let registry = Arc::new(Registry::new(Compat::default()));
        let old = hook(&registry, "h");
        let new = hook(&registry, "h");
        let (old_id, new_id) = (old.shared.id, new.shared.id);
        assert!(registry.insert(old, false).is_ok());
        let replaced = Arc::new(AtomicBool::new(false));

        let reader = {
            let (registry, replaced) = (registry.clone(), replaced.clone());
            thread::spawn(move || {
                let _ = emit(&registry);
                if replaced.load(Acquire) {
                    assert_eq!(emit(&registry), vec![new_id], "old hook after replace");
                }
            })
        };

        let previous = registry.insert(new, true).ok().flatten();
        assert_eq!(previous.map(|entry| entry.shared.id), Some(old_id));
        replaced.store(true, Release);
        assert_eq!(emit(&registry), vec![new_id]);

        reader.join().expect("reader");
        assert_cache_matches_snapshot(&registry);
    });
}
