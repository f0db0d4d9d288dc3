//! The DevTools forwarder's one error type.

use std::error::Error as StdError;
use std::fmt;

use crate::center::RegisterError;

#[cfg(doc)]
use super::builder::DevtoolsForwarderBuilder;
#[cfg(doc)]
use super::forwarder::DevtoolsForwarder;
#[cfg(doc)]
use super::stats::DevtoolsStats;

/// What went wrong with a forwarder; see [`DevtoolsError`].
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
    /// The center refused the forwarder's hook (a name taken or blank, a
    /// pattern that does not compile); see [`DevtoolsError::register_error`].
    Register,
    /// An event reached a forwarder that was shut down: it was dropped
    /// (counted as `shutdown` in [`DevtoolsStats::dropped`]).
    Closed,
}

/// An error of a [`DevtoolsForwarder`]: what was wrong and what to do.
///
/// [`DevtoolsForwarderBuilder::register`] returns it for a configuration
/// the forwarder cannot run with; the forwarder's hook returns it for an
/// event offered after the shutdown, so the center counts that event as
/// failed and reports it. A server that fails is not an error of the hook:
/// the forwarder keeps the events and retries, and
/// [`DevtoolsStats::last_error`] says why.
///
/// ```
/// use event_center::{DevtoolsErrorKind, DevtoolsForwarder, EventCenter};
///
/// let err = DevtoolsForwarder::builder("127.0.0.1:15596")
///     .register(&EventCenter::new(), "devtools")
///     .unwrap_err();
/// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidUrl);
/// assert!(err.to_string().contains("127.0.0.1:15596"));
/// ```
#[derive(Clone, Debug)]
pub struct DevtoolsError {
    kind: DevtoolsErrorKind,
    detail: String,
    /// Boxed: a registration error is rare, and the error stays small.
    register: Option<Box<RegisterError>>,
}

impl DevtoolsError {
    pub(super) fn new(kind: DevtoolsErrorKind, detail: String) -> Self {
        DevtoolsError {
            kind,
            detail,
            register: None,
        }
    }

    pub(super) fn register(error: RegisterError) -> Self {
        DevtoolsError {
            register: Some(Box::new(error)),
            ..DevtoolsError::new(DevtoolsErrorKind::Register, String::new())
        }
    }

    /// What was wrong.
    ///
    /// ```
    /// # use event_center::{DevtoolsErrorKind, DevtoolsForwarder, EventCenter};
    /// let err = DevtoolsForwarder::builder("http://h")
    ///     .with_api_key("a\nb")
    ///     .register(&EventCenter::new(), "devtools")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::InvalidApiKey);
    /// ```
    pub fn kind(&self) -> &DevtoolsErrorKind {
        &self.kind
    }

    /// The center's error, when the forwarder's hook could not be
    /// registered ([`DevtoolsErrorKind::Register`]).
    ///
    /// ```
    /// # use event_center::{DevtoolsErrorKind, DevtoolsForwarder, EventCenter, RegisterErrorKind};
    /// let err = DevtoolsForwarder::builder("http://127.0.0.1:9")
    ///     .register(&EventCenter::new(), "")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), &DevtoolsErrorKind::Register);
    /// assert_eq!(err.register_error().unwrap().kind(), &RegisterErrorKind::EmptyName);
    /// ```
    pub fn register_error(&self) -> Option<&RegisterError> {
        self.register.as_deref()
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
            DevtoolsErrorKind::Register => match &self.register {
                Some(e) => write!(f, "cannot register the DevTools forwarder: {e}"),
                None => f.write_str("cannot register the DevTools forwarder"),
            },
            DevtoolsErrorKind::Closed => write!(
                f,
                "the DevTools forwarder is shut down: {}; keep its guard alive while events \
                 should be forwarded",
                self.detail
            ),
        }
    }
}

impl StdError for DevtoolsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.register
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
