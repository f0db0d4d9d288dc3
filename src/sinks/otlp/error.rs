//! The OpenTelemetry export's one error type.

use std::fmt;

use crate::center::RegisterError;

/// What went wrong in the OpenTelemetry export: what was wrong and what to
/// do, in its message.
///
/// [`OtlpExporterBuilder::register`](crate::OtlpExporterBuilder::register)
/// returns it; an export that fails while the exporter runs (an unreachable
/// collector, an error status) is returned by the exporter's hook, so the
/// center counts it as failed and reports it as an
/// `event_center.hook_failed` event carrying this error's message, and
/// [`OtlpStats`](crate::OtlpStats) count it.
///
/// ```
/// use event_center::{EventCenter, OtlpErrorKind, OtlpExporter};
///
/// let err = OtlpExporter::builder()
///     .with_endpoint("ftp://x")
///     .register(&EventCenter::new(), "otlp")
///     .unwrap_err();
/// assert_eq!(err.kind(), OtlpErrorKind::InvalidEndpoint);
/// assert!(err.to_string().contains("http://localhost:4318"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpError {
    kind: OtlpErrorKind,
    message: String,
    /// Boxed: a registration error is rare, and the error stays small.
    register: Option<Box<RegisterError>>,
}

/// The kind of an [`OtlpError`].
///
/// ```
/// use event_center::OtlpErrorKind;
/// assert_ne!(OtlpErrorKind::Export, OtlpErrorKind::InvalidEndpoint);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtlpErrorKind {
    /// The endpoint is not an `http://` or `https://` URL with a host.
    InvalidEndpoint,
    /// A header name or value that HTTP does not allow.
    InvalidHeader,
    /// The SDK's exporter could not be set up.
    Setup,
    /// Sending to the collector failed (unreachable, an error status, a
    /// timeout).
    Export,
    /// An event reached an exporter that was already shut down.
    ShutDown,
    /// The center refused the exporter's hook (a name taken or blank, a
    /// pattern that does not compile); see [`OtlpError::register_error`].
    Register,
}

impl OtlpError {
    pub(super) fn new(kind: OtlpErrorKind, message: String) -> Self {
        OtlpError {
            kind,
            message,
            register: None,
        }
    }

    pub(super) fn register(error: RegisterError) -> Self {
        OtlpError {
            kind: OtlpErrorKind::Register,
            message: format!("cannot register the OTLP exporter: {error}"),
            register: Some(Box::new(error)),
        }
    }

    /// The kind of failure.
    ///
    /// ```
    /// use event_center::{EventCenter, OtlpErrorKind, OtlpExporter};
    /// let err = OtlpExporter::builder()
    ///     .with_header("bad header", "x")
    ///     .register(&EventCenter::new(), "otlp")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), OtlpErrorKind::InvalidHeader);
    /// ```
    pub fn kind(&self) -> OtlpErrorKind {
        self.kind
    }

    /// The center's error, when the exporter's hook could not be registered
    /// ([`OtlpErrorKind::Register`]).
    ///
    /// ```
    /// use event_center::{Event, EventCenter, OtlpErrorKind, OtlpExporter, RegisterErrorKind};
    /// let center = EventCenter::new();
    /// center.register_hook("otlp", "*", |_: &Event| {}).unwrap();
    /// let err = OtlpExporter::builder()
    ///     .with_endpoint("http://127.0.0.1:4318")
    ///     .register(&center, "otlp")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), OtlpErrorKind::Register);
    /// assert_eq!(err.register_error().unwrap().kind(), &RegisterErrorKind::DuplicateName);
    /// ```
    pub fn register_error(&self) -> Option<&RegisterError> {
        self.register.as_deref()
    }
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OtlpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.register
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
