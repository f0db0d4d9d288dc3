//! What the events of one `tracing` callsite share, built once per
//! callsite and thread: the derived event type and the meta.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::FixedState;
use serde_json::{Map, Value};
use tracing::Metadata;

use crate::event::JsonMap;
use crate::text::SharedStr;

thread_local! {
    /// A reusable buffer for deciding on a derived event type.
    static TYPE_BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
    /// What this thread has built for each callsite whose events it sent.
    static CALLSITES: RefCell<HashMap<usize, Callsite, FixedState>> =
        RefCell::new(HashMap::with_hasher(FixedState::default()));
}

/// What every event of one callsite shares: its derived event type and its
/// meta (where it was raised). Built once per callsite and thread, the first
/// time one of its events is sent.
pub(super) struct Callsite {
    pub(super) derived_type: SharedStr,
    pub(super) meta: Arc<JsonMap>,
}

impl Callsite {
    fn new(metadata: &Metadata<'_>) -> Callsite {
        let mut derived = String::new();
        write_derived_type(&mut derived, metadata);
        Callsite {
            derived_type: SharedStr::from(derived),
            meta: Arc::new(origin_meta(metadata)),
        }
    }
}

/// `tracing.` and the target with `::` as `.`, and `.name` when the event
/// was given a name.
fn write_derived_type(buffer: &mut String, metadata: &Metadata<'_>) {
    buffer.clear();
    buffer.push_str("tracing");
    for part in metadata.target().split("::") {
        buffer.push('.');
        buffer.push_str(part);
    }
    if let Some(name) = explicit_name(metadata) {
        buffer.push('.');
        buffer.push_str(name);
    }
}

/// Whether `wanted` says yes to the derived type of `metadata`, formatted
/// into a per-thread buffer: nothing allocated once the buffer has grown.
pub(super) fn derived_type_wanted(
    metadata: &Metadata<'_>,
    wanted: impl FnOnce(&str) -> bool,
) -> bool {
    TYPE_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => {
            write_derived_type(&mut buffer, metadata);
            wanted(&buffer)
        }
        Err(_) => {
            let mut buffer = String::new();
            write_derived_type(&mut buffer, metadata);
            wanted(&buffer)
        }
    })
}

/// Calls `f` with what is shared by the events of the callsite of
/// `metadata`.
pub(super) fn with_callsite<R>(
    metadata: &'static Metadata<'static>,
    f: impl FnOnce(&Callsite) -> R,
) -> R {
    let key = metadata as *const Metadata<'static> as usize;
    CALLSITES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut callsites) => f(callsites
            .entry(key)
            .or_insert_with(|| Callsite::new(metadata))),
        // Re-entered from inside `f` (it does not happen today): work it
        // out without the cache.
        Err(_) => f(&Callsite::new(metadata)),
    })
}

/// The event's name when the code gave it one: not `event file:line`.
fn explicit_name<'a>(metadata: &Metadata<'a>) -> Option<&'a str> {
    let name = metadata.name();
    let is_default = (|| {
        let rest = name.strip_prefix("event ")?;
        let rest = rest.strip_prefix(metadata.file()?)?;
        let line = rest.strip_prefix(':')?;
        Some(line.parse::<u32>().ok()? == metadata.line()?)
    })()
    .unwrap_or(false);
    (!is_default && !name.is_empty()).then_some(name)
}

/// Where a tracing event or span was raised: the event's meta.
fn origin_meta(metadata: &Metadata<'_>) -> JsonMap {
    let mut origin = Map::new();
    origin.insert("target".into(), metadata.target().into());
    if let Some(file) = metadata.file() {
        origin.insert("file".into(), file.into());
    }
    if let Some(line) = metadata.line() {
        origin.insert("line".into(), line.into());
    }
    let mut meta = JsonMap::new();
    meta.insert("tracing".into(), Value::Object(origin));
    meta
}
