//! The hook registry: an immutable snapshot swapped on register/unregister,
//! and a resolution cache `event type -> hooks` tagged with the snapshot's
//! generation.
//!
//! The publication protocol (snapshot, then cache, then generation; the
//! cache's generation check on insert; the per-thread silent memo keyed by
//! generation) is model-checked under every interleaving by `loom_model`,
//! which says how to run it.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::compat::Compat;
use crate::hook_entry::HookEntry;
use crate::sync::{thread_local, ArcSwap, AtomicU64, Mutex, MutexGuard};
use crate::text::SharedStr;

#[cfg(all(test, event_center_loom))]
mod loom_model;

/// The resolution cache holds at most this many event types; past it, it
/// starts over (programs that mint event types at run time stay bounded).
const CACHE_CAPACITY: usize = 4096;

/// The hooks an event type reaches, and the twin it is mirrored as.
#[derive(Default)]
pub(crate) struct Resolved {
    pub(crate) hooks: Box<[Arc<HookEntry>]>,
    pub(crate) twin: Option<Twin>,
}

pub(crate) struct Twin {
    pub(crate) event_type: SharedStr,
    pub(crate) family: SharedStr,
    pub(crate) resolved: Arc<Resolved>,
}

impl Resolved {
    /// Whether emitting this type reaches anyone (directly or via its twin).
    pub(crate) fn is_listened(&self) -> bool {
        !self.hooks.is_empty() || self.twin.is_some()
    }
}

struct Snapshot {
    generation: u64,
    hooks: Vec<Arc<HookEntry>>,
}

struct Cache {
    generation: u64,
    map: HashMap<SharedStr, Arc<Resolved>, foldhash::fast::FixedState>,
}

impl Cache {
    fn empty(generation: u64) -> Cache {
        Cache {
            generation,
            map: HashMap::default(),
        }
    }
}

pub(crate) struct Registry {
    /// The generation of the published snapshot, stored after it: a value
    /// from one process-wide counter, so it names one registry's one
    /// snapshot and a per-thread memo entry is valid for exactly that.
    generation: AtomicU64,
    snapshot: ArcSwap<Snapshot>,
    cache: ArcSwap<Cache>,
    writer: Mutex<()>,
    compat: Compat,
    next_id: AtomicU64,
}

/// Per-thread memo of literal event types that nobody listens to: the answer
/// for the commonest emit (a type no hook wants) with no shared memory
/// touched beyond one atomic load. A literal's address and length identify
/// its content for the life of the program.
const SILENT_SLOTS: usize = 8;

/// A literal's address, and its length packed with the registry generation
/// the answer was read under (literals longer than `u16::MAX` are not
/// memoized).
#[derive(Clone, Copy, PartialEq, Eq)]
struct SilentKey {
    ptr: usize,
    len_generation: u64,
}

const NO_KEY: SilentKey = SilentKey {
    ptr: 0,
    len_generation: 0,
};

struct SilentMemo {
    slots: [Cell<SilentKey>; SILENT_SLOTS],
    next: Cell<usize>,
}

impl SilentMemo {
    const fn new() -> SilentMemo {
        SilentMemo {
            slots: [const { Cell::new(NO_KEY) }; SILENT_SLOTS],
            next: Cell::new(0),
        }
    }
}

#[cfg(not(all(test, event_center_loom)))]
thread_local! {
    static SILENT: SilentMemo = const { SilentMemo::new() };
}

// The model test's thread-locals take no `const` initializer.
#[cfg(all(test, event_center_loom))]
thread_local! {
    static SILENT: SilentMemo = SilentMemo::new();
}

/// Registry generations come from one process-wide counter, so a value
/// never names two registries or two snapshots. (Only its uniqueness
/// matters, so it stays a plain atomic in the model test too.)
fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The memo key of a literal under `generation`.
#[inline]
fn silent_key(event_type: &SharedStr, generation: u64) -> Option<SilentKey> {
    let (ptr, len) = event_type.static_key()?;
    let len = u16::try_from(len).ok()?;
    Some(SilentKey {
        ptr,
        len_generation: (generation << 16) | u64::from(len),
    })
}

/// Why a hook could not be inserted.
pub(crate) enum InsertError {
    Duplicate,
}

impl Registry {
    pub(crate) fn new(compat: Compat) -> Registry {
        let generation = next_generation();
        Registry {
            generation: AtomicU64::new(generation),
            snapshot: ArcSwap::from_pointee(Snapshot {
                generation,
                hooks: Vec::new(),
            }),
            cache: ArcSwap::from_pointee(Cache::empty(generation)),
            writer: Mutex::new(()),
            compat,
            next_id: AtomicU64::new(1),
        }
    }

    /// A fresh hook id, unique within this registry.
    pub(crate) fn next_hook_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether this thread already knows that nobody listens to the literal
    /// `event_type` under the current registry generation.
    #[inline(always)]
    pub(crate) fn known_silent(&self, event_type: &SharedStr) -> bool {
        match silent_key(event_type, self.generation.load(Ordering::Acquire)) {
            Some(key) => SILENT.with(|memo| memo.slots.iter().any(|slot| slot.get() == key)),
            None => false,
        }
    }

    /// Remembers on this thread that nobody listens to the literal
    /// `event_type` as of `generation`, read before the lookup that said so.
    #[cold]
    fn remember_silent(&self, event_type: &SharedStr, generation: u64) {
        if let Some(key) = silent_key(event_type, generation) {
            SILENT.with(|memo| {
                let next = memo.next.get();
                memo.slots[next].set(key);
                memo.next.set((next + 1) % SILENT_SLOTS);
            });
        }
    }

    /// Calls `f` with the resolution of `event_type` when someone listens to
    /// it; otherwise remembers, on this thread, that nobody does. Returns
    /// whether `f` ran.
    pub(crate) fn if_listened(&self, event_type: &SharedStr, f: impl FnOnce(&Resolved)) -> bool {
        if self.known_silent(event_type) {
            return false;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let listened = self.with_resolved(event_type, |resolved| {
            let listened = resolved.is_listened();
            if listened {
                f(resolved);
            }
            listened
        });
        if !listened {
            self.remember_silent(event_type, generation);
        }
        listened
    }

    /// The shared resolution of `event_type` when someone listens to it (the
    /// async path, which holds it across awaits).
    pub(crate) fn listened(&self, event_type: &SharedStr) -> Option<Arc<Resolved>> {
        if self.known_silent(event_type) {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let resolved = self.resolved(event_type);
        if resolved.is_listened() {
            Some(resolved)
        } else {
            self.remember_silent(event_type, generation);
            None
        }
    }

    /// Calls `f` with the resolution of `event_type`. The hot path: one
    /// snapshot-free cache read with no reference-count traffic on a hit.
    #[inline]
    pub(crate) fn with_resolved<R>(&self, event_type: &str, f: impl FnOnce(&Resolved) -> R) -> R {
        let cache = self.cache.load();
        match cache.map.get(event_type) {
            Some(resolved) => f(resolved),
            None => {
                drop(cache);
                f(&self.resolve_slow(event_type))
            }
        }
    }

    /// The resolution of `event_type` as a shared value (for the async path,
    /// which holds it across awaits).
    pub(crate) fn resolved(&self, event_type: &str) -> Arc<Resolved> {
        match self.cache.load().map.get(event_type) {
            Some(resolved) => resolved.clone(),
            None => self.resolve_slow(event_type),
        }
    }

    #[cold]
    fn resolve_slow(&self, event_type: &str) -> Arc<Resolved> {
        let snapshot = self.snapshot.load_full();
        let resolved = Arc::new(self.compute(&snapshot, event_type, true));
        let generation = snapshot.generation;
        self.cache.rcu(|cache| {
            if cache.generation != generation || cache.map.contains_key(event_type) {
                return Arc::clone(cache);
            }
            let mut next = if cache.map.len() >= CACHE_CAPACITY {
                Cache::empty(generation)
            } else {
                Cache {
                    generation,
                    map: cache.map.clone(),
                }
            };
            next.map
                .insert(SharedStr::from(event_type.to_owned()), resolved.clone());
            Arc::new(next)
        });
        resolved
    }

    fn compute(&self, snapshot: &Snapshot, event_type: &str, with_twin: bool) -> Resolved {
        let aliases = self.compat.aliases(event_type);
        let hooks: Box<[Arc<HookEntry>]> = snapshot
            .hooks
            .iter()
            .filter(|entry| {
                entry.patterns.matches(event_type)
                    || aliases.iter().any(|alias| entry.patterns.matches(alias))
            })
            .cloned()
            .collect();
        let twin = with_twin
            .then(|| self.compat.mirror_of(event_type))
            .flatten()
            .and_then(|(twin_type, family)| {
                let resolved = self.compute(snapshot, &twin_type, false);
                resolved.is_listened().then(|| Twin {
                    event_type: SharedStr::from(twin_type),
                    family: SharedStr::from(family.to_owned()),
                    resolved: Arc::new(resolved),
                })
            });
        Resolved { hooks, twin }
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        // The guarded data is `()`: a panic while holding it cannot leave
        // anything half-updated, so a poisoned lock is safe to take.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes a new hook list and invalidates the cache.
    fn publish(&self, generation: u64, hooks: Vec<Arc<HookEntry>>) {
        self.snapshot
            .store(Arc::new(Snapshot { generation, hooks }));
        self.cache.store(Arc::new(Cache::empty(generation)));
        // Last: a thread that read the old generation before its lookup
        // remembers its answer under the old one, which no longer matches.
        self.generation.store(generation, Ordering::Release);
    }

    /// Adds `entry`; with `replace`, an entry of the same name is swapped out
    /// in place (keeping its position) and returned.
    pub(crate) fn insert(
        &self,
        entry: Arc<HookEntry>,
        replace: bool,
    ) -> Result<Option<Arc<HookEntry>>, InsertError> {
        let _writer = self.lock_writer();
        let current = self.snapshot.load();
        let mut hooks = current.hooks.clone();
        let existing = hooks
            .iter()
            .position(|h| h.shared.name == entry.shared.name);
        let replaced = match existing {
            Some(_) if !replace => return Err(InsertError::Duplicate),
            Some(i) => Some(std::mem::replace(&mut hooks[i], entry)),
            None => {
                hooks.push(entry);
                None
            }
        };
        if let Some(old) = &replaced {
            old.shared.active.store(false, Ordering::SeqCst);
        }
        self.publish(next_generation(), hooks);
        Ok(replaced)
    }

    /// Removes the hook named `name`; no delivery to it starts after this
    /// returns.
    pub(crate) fn remove(&self, name: &str) -> Option<Arc<HookEntry>> {
        self.remove_where(|h| h.shared.name == name)
    }

    /// Removes the hook whose id is `id`, if it is still registered (a hook
    /// registered under the same name since is left alone).
    #[cfg(any(
        feature = "jsonl",
        feature = "nats",
        feature = "otlp",
        feature = "tracing",
        feature = "devtools-client"
    ))]
    pub(crate) fn remove_id(&self, id: u64) -> Option<Arc<HookEntry>> {
        self.remove_where(|h| h.shared.id == id)
    }

    fn remove_where(&self, found: impl Fn(&HookEntry) -> bool) -> Option<Arc<HookEntry>> {
        let _writer = self.lock_writer();
        let current = self.snapshot.load();
        let i = current.hooks.iter().position(|h| found(h))?;
        let mut hooks = current.hooks.clone();
        let removed = hooks.remove(i);
        removed.shared.active.store(false, Ordering::SeqCst);
        self.publish(next_generation(), hooks);
        Some(removed)
    }

    /// Every registered hook, in registration order.
    pub(crate) fn hooks(&self) -> Vec<Arc<HookEntry>> {
        self.snapshot.load().hooks.clone()
    }
}
