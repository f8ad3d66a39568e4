//! The error every `parse` constructor returns: which field was wrong and why.

/// A value from outside did not satisfy a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The field as the client named it, e.g. `content`.
    pub field: &'static str,
    /// What is wrong, in words a client developer can act on.
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}
