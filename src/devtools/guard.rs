//! Who may talk to the server: the browser origins and `Host` names it
//! answers, and what a request body must declare itself as.

/// The access rules (see the builder's `with_allowed_origin` and
/// `with_allowed_host`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Access {}
