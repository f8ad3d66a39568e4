//! Turning SQLite rows into domain values: the SELECT fragments and mappers shared with the
//! other SQL backend (`parlor_store::sql_rows`), stamped for this one's row type; the mapping of
//! SQLite's errors is its own.

use parlor_store::{StoreError, StoreResult};

pub(crate) use parlor_store::sql_rows::{
    CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOINS, USER_COLUMNS, corrupt, system_json,
};

parlor_store::sql_row_mappers!(sqlx::sqlite::SqliteRow, sqlx::Sqlite, crate::attachments::from_message_row);

/// Rows bound as one parameter, a JSON array read back with `json_each`: how the set-wise
/// writes (`append_many.rs`, `read_state.rs`) pass any number of rows in one statement.
pub(crate) fn json(rows: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(StoreError::backend)
}

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
        sqlx::Error::Database(ref d) => match d.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff) {
            // The primary result codes (extended codes keep them in the low byte): the operator
            // and the client need to tell these apart from a bug.
            Some(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Busy,
            Some(SQLITE_FULL) => StoreError::Full,
            _ => StoreError::backend(e),
        },
        sqlx::Error::Io(ref io) if io.kind() == std::io::ErrorKind::StorageFull => StoreError::Full,
        other => StoreError::backend(other),
    }
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_FULL: i32 = 13;
