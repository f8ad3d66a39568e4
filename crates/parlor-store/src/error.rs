//! The one error type of the storage layer.

/// What can go wrong in a store. The server maps each variant to an API error once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the field names which (e.g. `username`).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The thing to change does not exist, or the actor may not see it.
    #[error("not found")]
    NotFound,
    /// A field points at something that is not there (e.g. `reply_to`).
    #[error("{0} does not refer to a message of this conversation")]
    InvalidReference(&'static str),
    /// A rule of the data would break; the code says which (`last_owner`, `not_a_room`,
    /// `already_members`).
    #[error("refused: {0}")]
    Rule(&'static str),
    /// This backend cannot do that at all (e.g. `backup`); the name says what.
    #[error("{0} is not supported by this store")]
    Unsupported(&'static str),
    /// The store is closed or shutting down.
    #[error("store unavailable")]
    Unavailable,
    /// The database stayed locked (by another process, e.g. a backup or an operator's `sqlite3`
    /// shell), or every pooled connection stayed in use, for longer than the store waits;
    /// nothing was written, and a retry may succeed.
    #[error("database is busy")]
    Busy,
    /// The disk holding the data is full; nothing was written.
    #[error("disk full")]
    Full,
    /// The database failed. Never shown to clients; logged in full.
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(err))
    }
}
