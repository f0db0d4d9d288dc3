//! OpenTelemetry export (feature `otlp`): events as OTLP log records, runs as
//! spans, sent over OTLP/HTTP with protobuf bodies.
//!
//! The hook only hands each event to the OpenTelemetry SDK's batch
//! processors, whose threads send the batches; export failures are noted and
//! returned by the hook's next call, so the center counts them and reports
//! `event_center.hook_failed`.

use std::sync::{Mutex, MutexGuard};

mod builder;
mod error;
mod exporter;
mod guard;
mod records;
mod spans;
mod transport;

pub use builder::OtlpExporterBuilder;
pub use error::{OtlpError, OtlpErrorKind};
pub use exporter::OtlpExporter;
pub use guard::OtlpGuard;
pub use transport::OtlpStats;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
