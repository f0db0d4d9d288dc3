//! The hook registry: an immutable snapshot swapped on register/unregister,
//! and a resolution cache `event type -> hooks` tagged with the snapshot's
//! generation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use arc_swap::ArcSwap;

use crate::compat::Compat;
use crate::dispatch::AsyncWorker;
use crate::hook::HookFn;
use crate::pattern::PatternSet;
use crate::text::SharedStr;

/// The resolution cache holds at most this many event types; past it, it
/// starts over (programs that mint event types at run time stay bounded).
const CACHE_CAPACITY: usize = 4096;

/// Counters and state shared by a hook's entry and its worker.
pub(crate) struct HookShared {
    pub(crate) id: u64,
    pub(crate) name: SharedStr,
    /// False once unregistered: checked before every delivery starts.
    pub(crate) active: AtomicBool,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped_unregistered: AtomicU64,
}

impl HookShared {
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }
}

pub(crate) struct HookEntry {
    pub(crate) shared: Arc<HookShared>,
    pub(crate) patterns: PatternSet,
    pub(crate) hook: HookFn,
    /// The worker that awaits an async hook for the synchronous emit path,
    /// started on first use.
    pub(crate) worker: OnceLock<AsyncWorker>,
}

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
    snapshot: ArcSwap<Snapshot>,
    cache: ArcSwap<Cache>,
    writer: Mutex<()>,
    compat: Compat,
    next_id: AtomicU64,
}

/// Why a hook could not be inserted.
pub(crate) enum InsertError {
    Duplicate,
}

impl Registry {
    pub(crate) fn new(compat: Compat) -> Registry {
        Registry {
            snapshot: ArcSwap::from_pointee(Snapshot {
                generation: 0,
                hooks: Vec::new(),
            }),
            cache: ArcSwap::from_pointee(Cache::empty(0)),
            writer: Mutex::new(()),
            compat,
            next_id: AtomicU64::new(1),
        }
    }

    pub(crate) fn new_entry(
        &self,
        name: SharedStr,
        patterns: PatternSet,
        hook: HookFn,
    ) -> Arc<HookEntry> {
        Arc::new(HookEntry {
            shared: Arc::new(HookShared {
                id: self.next_id.fetch_add(1, Ordering::Relaxed),
                name,
                active: AtomicBool::new(true),
                delivered: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped_unregistered: AtomicU64::new(0),
            }),
            patterns,
            hook,
            worker: OnceLock::new(),
        })
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
        self.publish(current.generation + 1, hooks);
        Ok(replaced)
    }

    /// Removes the hook named `name`; no delivery to it starts after this
    /// returns.
    pub(crate) fn remove(&self, name: &str) -> Option<Arc<HookEntry>> {
        let _writer = self.lock_writer();
        let current = self.snapshot.load();
        let i = current.hooks.iter().position(|h| h.shared.name == name)?;
        let mut hooks = current.hooks.clone();
        let removed = hooks.remove(i);
        removed.shared.active.store(false, Ordering::SeqCst);
        self.publish(current.generation + 1, hooks);
        Some(removed)
    }

    /// Every registered hook, in registration order.
    pub(crate) fn hooks(&self) -> Vec<Arc<HookEntry>> {
        self.snapshot.load().hooks.clone()
    }
}
