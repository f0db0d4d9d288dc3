//! `ErrorInfo`, an event's structured error.

use std::error::Error as StdError;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::take_bool;
use super::*;

/// What went wrong, in Agently's ErrorInfo shape.
///
/// ```
/// use event_center::ErrorInfo;
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no config");
/// let info = ErrorInfo::from_error(&io);
/// assert_eq!(info.error_type, "Error");
/// assert_eq!(info.module.as_deref(), Some("std::io::error"));
/// assert_eq!(info.message, "no config");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The error's type name (`"type"` on the wire).
    #[serde(rename = "type")]
    pub error_type: String,
    /// The error's message.
    pub message: String,
    /// Where the type is defined (a Rust module path, a Python module).
    #[serde(default)]
    pub module: Option<String>,
    /// A traceback; for Rust errors, the chain of `source()` errors.
    #[serde(default)]
    pub traceback: Option<String>,
    /// Whether retrying may succeed.
    #[serde(default)]
    pub retryable: Option<bool>,
    /// Whether the run cannot go on.
    #[serde(default)]
    pub fatal: Option<bool>,
    /// An application error code.
    #[serde(default)]
    pub code: Option<String>,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub details: JsonMap,
}

impl ErrorInfo {
    /// An error of the given type name and message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorInfo {
            error_type: error_type.into(),
            message: message.into(),
            ..ErrorInfo::default()
        }
    }

    /// Describes any error: its type name and module from the Rust type, its
    /// message from `Display`, and its `source()` chain as the traceback.
    ///
    /// ```
    /// use event_center::ErrorInfo;
    /// let err = "x".parse::<i32>().unwrap_err();
    /// let info = ErrorInfo::from_error(&err);
    /// assert_eq!(info.error_type, "ParseIntError");
    /// assert_eq!(info.message, "invalid digit found in string");
    /// ```
    pub fn from_error<E: StdError + ?Sized>(error: &E) -> Self {
        let (module, error_type) = split_type_name(std::any::type_name::<E>());
        let mut traceback = format!("{error_type}: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            traceback.push_str("\nCaused by: ");
            traceback.push_str(&cause.to_string());
            source = cause.source();
        }
        ErrorInfo {
            error_type,
            message: error.to_string(),
            module,
            traceback: Some(traceback),
            ..ErrorInfo::default()
        }
    }

    /// Describes a caught panic (the payload of `catch_unwind`).
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("hook exploded")).unwrap_err();
    /// let info = event_center::ErrorInfo::from_panic(&*caught);
    /// assert_eq!(info.error_type, "panic");
    /// assert_eq!(info.message, "hook exploded");
    /// ```
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        ErrorInfo {
            fatal: Some(false),
            ..ErrorInfo::new("panic", message)
        }
    }

    /// Sets `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets `retryable`.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = Some(retryable);
        self
    }

    /// Sets `fatal`.
    pub fn with_fatal(mut self, fatal: bool) -> Self {
        self.fatal = Some(fatal);
        self
    }

    /// Adds one entry to `details`.
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    pub(crate) fn from_json(value: Value, path: &str) -> Result<Self, EventError> {
        let mut obj = into_object(value, path)?;
        let p = |key: &str| format!("{path}.{key}");
        Ok(ErrorInfo {
            error_type: take_string(&mut obj, "type", &p("type"))?
                .ok_or_else(|| EventError::missing_field(p("type")))?,
            message: take_string(&mut obj, "message", &p("message"))?
                .ok_or_else(|| EventError::missing_field(p("message")))?,
            module: take_string(&mut obj, "module", &p("module"))?,
            traceback: take_string(&mut obj, "traceback", &p("traceback"))?,
            retryable: take_bool(&mut obj, "retryable", &p("retryable"))?,
            fatal: take_bool(&mut obj, "fatal", &p("fatal"))?,
            code: take_string(&mut obj, "code", &p("code"))?,
            details: take_object(&mut obj, "details", &p("details"))?.unwrap_or_default(),
        })
    }
}

fn split_type_name(full: &str) -> (Option<String>, String) {
    if full.starts_with("dyn ") {
        // A trait object (`dyn Error + Send + Sync`) names no concrete type.
        return (None, "Error".to_owned());
    }
    let head_end = full.find('<').unwrap_or(full.len());
    let (head, generics) = full.split_at(head_end);
    match head.rfind("::") {
        Some(i) => (
            Some(head[..i].to_owned()),
            format!("{}{}", &head[i + 2..], generics),
        ),
        None => (None, full.to_owned()),
    }
}

impl<E: StdError> From<&E> for ErrorInfo {
    fn from(error: &E) -> Self {
        ErrorInfo::from_error(error)
    }
}
