//! Keeping the database file healthy while it serves: online backups (`VACUUM INTO`, a
//! consistent snapshot written to a new file) and `VACUUM` on the write connection.

use std::path::Path;

use parlor_store::{StoreError, StoreResult};
use sqlx::SqliteConnection;

use crate::rows::db;

/// Copies the database into the new file `to` from one read snapshot. A reader does this, so
/// writers carry on meanwhile; SQLite itself writes only the new file.
pub(crate) async fn backup(conn: &mut SqliteConnection, to: &Path) -> StoreResult<u64> {
    if tokio::fs::try_exists(to).await.map_err(StoreError::backend)? {
        return Err(StoreError::Conflict("backup file"));
    }
    let path = to.to_str().ok_or_else(|| {
        StoreError::backend(std::io::Error::new(std::io::ErrorKind::InvalidInput, "backup path is not UTF-8"))
    })?;
    sqlx::query("VACUUM INTO ?").bind(path).execute(&mut *conn).await.map_err(db)?;
    let size = tokio::fs::metadata(to).await.map_err(StoreError::backend)?.len();
    Ok(size)
}

/// Rebuilds the file without free pages, then empties the WAL it filled. The batch writer runs
/// it on the write connection between batches, so it is ordered with every other write.
pub(crate) async fn vacuum(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("VACUUM").execute(&mut *conn).await.map_err(db)?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).await.map_err(db)?;
    Ok(())
}
