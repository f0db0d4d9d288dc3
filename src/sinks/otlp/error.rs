//! The error of the OpenTelemetry export.

use std::fmt;

/// What went wrong in the OpenTelemetry export: what was wrong and what to
/// do, in its message.
///
/// ```
/// let err = event_center::OtlpExporter::builder().with_endpoint("ftp://x").build().unwrap_err();
/// assert_eq!(err.kind(), event_center::OtlpErrorKind::InvalidEndpoint);
/// assert!(err.to_string().contains("http://localhost:4318"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpError {
    kind: OtlpErrorKind,
    message: String,
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
    /// The hook's queue was not drained within the guard's timeout.
    Timeout,
}

impl OtlpError {
    pub(super) fn new(kind: OtlpErrorKind, message: String) -> Self {
        OtlpError { kind, message }
    }

    /// The kind of failure.
    ///
    /// ```
    /// let err = event_center::OtlpExporter::builder().with_endpoint("").build();
    /// # let _ = err;
    /// ```
    pub fn kind(&self) -> OtlpErrorKind {
        self.kind
    }
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OtlpError {}
