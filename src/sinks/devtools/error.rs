//! The error of building a forwarder.

use std::error::Error as StdError;
use std::fmt;

#[cfg(doc)]
use super::forwarder::DevtoolsForwarder;

/// What was wrong with a forwarder's configuration.
///
/// ```
/// use event_center::DevtoolsErrorKind;
/// assert_ne!(DevtoolsErrorKind::InvalidUrl, DevtoolsErrorKind::InvalidApiKey);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DevtoolsErrorKind {
    /// The URL is not an `http://` or `https://` URL with a host.
    InvalidUrl,
    /// The API key cannot be sent in a header (a control character, or
    /// empty).
    InvalidApiKey,
    /// The sender thread could not be started.
    ThreadUnavailable,
}

/// An error building a [`DevtoolsForwarder`]: what was wrong and what to do.
///
/// ```
/// use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
///
/// let err = DevtoolsForwarder::builder("127.0.0.1:15596").build().unwrap_err();
/// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
/// assert!(err.to_string().contains("127.0.0.1:15596"));
/// ```
#[derive(Clone, Debug)]
pub struct DevtoolsError {
    pub(super) kind: DevtoolsErrorKind,
    pub(super) detail: String,
}

impl DevtoolsError {
    /// What was wrong.
    ///
    /// ```
    /// # use event_center::{DevtoolsErrorKind, DevtoolsForwarder};
    /// let err = DevtoolsForwarder::builder("http://h").with_api_key("a\nb").build().unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidApiKey);
    /// ```
    pub fn kind(&self) -> &DevtoolsErrorKind {
        &self.kind
    }
}

impl fmt::Display for DevtoolsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DevtoolsErrorKind::InvalidUrl => write!(
                f,
                "DevTools URL `{}` is not valid; give the server's base URL \
                 (`http://127.0.0.1:15596`) or its ingest URL (`.../observation/ingest`)",
                self.detail
            ),
            DevtoolsErrorKind::InvalidApiKey => write!(
                f,
                "DevTools API key is not valid ({}); use the key the server was started with \
                 (`agently-devtools start --api-key KEY`)",
                self.detail
            ),
            DevtoolsErrorKind::ThreadUnavailable => write!(
                f,
                "DevTools forwarder could not start its sender thread ({}); \
                 the process is out of threads or memory",
                self.detail
            ),
        }
    }
}

impl StdError for DevtoolsError {}
