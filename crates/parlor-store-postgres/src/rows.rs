//! Turning PostgreSQL rows into domain values: the SELECT fragments and mappers shared with the
//! other SQL backend (`parlor_store::sql_rows`), stamped for this one's row type; the mapping of
//! PostgreSQL's errors is its own.

use parlor_store::StoreError;

pub(crate) use parlor_store::sql_rows::{
    CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOINS, USER_COLUMNS, corrupt, system_json,
};

parlor_store::sql_row_mappers!(sqlx::postgres::PgRow, sqlx::Postgres, crate::attachments::from_message_row);

/// Maps a database error, turning a unique-constraint violation into `Conflict(field)`.
pub(crate) fn conflict_or_backend(field: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(field),
        _ => db(e),
    }
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Unavailable,
        sqlx::Error::Database(ref d) => match d.code().as_deref() {
            // disk_full: the operator needs to tell it apart from a bug.
            Some("53100") => StoreError::Full,
            // lock_not_available (a lock_timeout ran out): a retry may succeed.
            Some("55P03") => StoreError::Busy,
            _ => StoreError::backend(e),
        },
        other => StoreError::backend(other),
    }
}

/// True for a transaction PostgreSQL aborted so that another could go on: a deadlock
/// (40P01) or a serialization failure (40001). Running it again is safe and usually succeeds.
/// So is one that lost a race to insert a row whose existence it had checked for: the user
/// another node saw first, the unread notification another node folded into. Run again, it
/// finds the winner's row and takes the path for an existing one.
pub(crate) fn is_retryable(e: &StoreError) -> bool {
    /// Unique indexes guarding "insert unless it exists" paths.
    const CHECKED_FIRST: [&str; 2] = ["users_external_id_key", "notifications_collapsed"];
    let StoreError::Backend(inner) = e else { return false };
    let Some(sqlx::Error::Database(d)) = inner.downcast_ref::<sqlx::Error>() else { return false };
    match d.code().as_deref() {
        Some("40P01" | "40001") => true,
        Some("23505") => d.constraint().is_some_and(|c| CHECKED_FIRST.contains(&c)),
        _ => false,
    }
}
