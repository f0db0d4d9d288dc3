//! Field values: a `tracing` event's or span's fields as typed JSON, its
//! message and its error.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use serde_json::{Map, Number, Value};
use tracing::field::{Field, Visit};

use crate::event::ErrorInfo;

/// A field value as JSON, typed.
fn json_u128(value: u128) -> Value {
    u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from)
}

fn json_i128(value: i128) -> Value {
    i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from)
}

pub(super) fn json_f64(value: f64) -> Value {
    Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number)
}

/// An error's `ErrorInfo`: its message and `source()` chain (the concrete
/// type is not known behind `dyn Error`).
fn error_info(error: &(dyn StdError + 'static)) -> ErrorInfo {
    let message = error.to_string();
    let mut traceback = format!("Error: {message}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(traceback, "\nCaused by: {cause}");
        source = cause.source();
    }
    let mut info = ErrorInfo::new("Error", message);
    info.traceback = Some(traceback);
    info
}

/// Collects an event's or a span's fields.
pub(super) struct FieldCollector<'a> {
    skip: &'a str,
    pub(super) message: Option<String>,
    pub(super) fields: Map<String, Value>,
    pub(super) error: Option<ErrorInfo>,
}

impl<'a> FieldCollector<'a> {
    pub(super) fn new(skip: &'a str) -> Self {
        FieldCollector {
            skip,
            message: None,
            fields: Map::new(),
            error: None,
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        if field.name() != self.skip {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, json_f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, json_i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, json_u128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.put(field, Value::String(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        if self.error.is_none() {
            self.error = Some(error_info(value));
        }
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.put(field, Value::String(text));
        }
    }
}
