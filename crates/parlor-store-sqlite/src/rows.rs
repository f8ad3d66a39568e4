//! SQLite's own side of reading and writing rows: its error codes, and the JSON arrays the
//! set-wise writes bind as one parameter.

use parlor_store::{StoreError, StoreResult};

/// Rows bound as one parameter, a JSON array read back with `json_each`: how the set-wise
/// writes (`append_many.rs`, `receipts.rs`) pass any number of rows in one statement.
pub(crate) fn json(rows: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(StoreError::backend)
}

/// A column of a raw row (the set-wise writes read them without the shared mappers).
pub(crate) fn get<'r, T, I>(row: &'r sqlx::sqlite::SqliteRow, column: I) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    I: sqlx::ColumnIndex<sqlx::sqlite::SqliteRow>,
{
    sqlx::Row::try_get(row, column).map_err(StoreError::backend)
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Unavailable,
        // Every connection stayed in use for the pool's whole wait: overload, not a fault.
        sqlx::Error::PoolTimedOut => StoreError::Busy,
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_pool_wait_that_runs_out_is_busy_not_a_fault() {
        assert!(matches!(super::db(sqlx::Error::PoolTimedOut), parlor_store::StoreError::Busy));
    }
}
