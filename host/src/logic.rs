//! What the guest's pure exports take and give, in the host's terms.

/// The claims codex-auth reads from a JWT (the WIT record, used as it is).
pub use crate::bindings::types::Claims;

/// Everything the authorize URL carries (the WIT record, used as it is).
pub use crate::bindings::authorize::AuthorizeRequest;
