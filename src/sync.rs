//! The synchronization primitives of the registry, the hook entries and
//! the queued hooks' workers, in one place so a model checker can stand in
//! for them.
//!
//! Every ordinary build uses the standard library's types and `arc-swap`:
//! these are plain re-exports and cost nothing. The model test build
//! (`RUSTFLAGS="--cfg event_center_loom" cargo test --lib loom_model`, see
//! `src/registry/loom_model.rs` and `src/worker/loom_model.rs`) swaps in
//! loom's atomics, mutex, condition variable and thread-locals, and a
//! loom-visible [`ArcSwap`] with the same methods, so loom can run the real
//! registry and queue code under every interleaving and every memory-order
//! outcome it allows.

#[cfg(not(all(test, event_center_loom)))]
pub(crate) use arc_swap::ArcSwap;
#[cfg(not(all(test, event_center_loom)))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(not(all(test, event_center_loom)))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(all(test, event_center_loom)))]
pub(crate) use std::thread_local;

#[cfg(all(test, event_center_loom))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(all(test, event_center_loom))]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(all(test, event_center_loom))]
pub(crate) use loom::thread_local;
#[cfg(all(test, event_center_loom))]
pub(crate) use model::ArcSwap;

#[cfg(all(test, event_center_loom))]
mod model {
    use std::sync::atomic::Ordering::{AcqRel, Acquire};
    use std::sync::{Arc, PoisonError};

    use loom::sync::atomic::AtomicUsize;

    /// `arc_swap::ArcSwap` as loom sees it: the methods the registry uses,
    /// on one loom atomic. The "pointer" is an index into an append-only
    /// list of every value ever stored, so no value is freed while the model
    /// runs (reclamation is arc-swap's business, not the registry's) and an
    /// index is never reused (no ABA for `rcu`'s compare-and-swap).
    ///
    /// The orderings are the weakest arc-swap promises (Acquire loads,
    /// AcqRel swaps and compare-and-swaps; the real ones are SeqCst), so a
    /// protocol that passes here does not lean on anything stronger.
    pub(crate) struct ArcSwap<T> {
        current: AtomicUsize,
        values: std::sync::Mutex<Vec<Arc<T>>>,
    }

    impl<T> ArcSwap<T> {
        pub(crate) fn from_pointee(value: T) -> ArcSwap<T> {
            ArcSwap {
                current: AtomicUsize::new(0),
                values: std::sync::Mutex::new(vec![Arc::new(value)]),
            }
        }

        /// The value at `index`. Loom runs one model thread at a time, so
        /// this bookkeeping lock never blocks and is no part of the model.
        fn value(&self, index: usize) -> Arc<T> {
            let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(&values[index])
        }

        /// Keeps `value` for the rest of the model run; its index.
        fn keep(&self, value: Arc<T>) -> usize {
            let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
            values.push(value);
            values.len() - 1
        }

        pub(crate) fn load(&self) -> Arc<T> {
            self.value(self.current.load(Acquire))
        }

        pub(crate) fn load_full(&self) -> Arc<T> {
            self.load()
        }

        pub(crate) fn store(&self, value: Arc<T>) {
            let index = self.keep(value);
            self.current.swap(index, AcqRel);
        }

        /// arc-swap's `rcu`: compute from the current value, and install the
        /// result only if the value is still current, else retry from the
        /// newer one; returns the value replaced.
        pub(crate) fn rcu(&self, mut f: impl FnMut(&Arc<T>) -> Arc<T>) -> Arc<T> {
            let mut index = self.current.load(Acquire);
            loop {
                let current = self.value(index);
                let next = f(&current);
                let next = if Arc::ptr_eq(&next, &current) {
                    index
                } else {
                    self.keep(next)
                };
                match self.current.compare_exchange(index, next, AcqRel, Acquire) {
                    Ok(_) => return current,
                    Err(actual) => index = actual,
                }
            }
        }
    }
}
