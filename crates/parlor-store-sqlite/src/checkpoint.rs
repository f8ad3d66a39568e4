//! Moves the WAL's pages into the database file on a connection of its own, so the batch
//! writer's commits never wait for it.
//!
//! SQLite's default runs a checkpoint inside the commit that takes the WAL past 1,000 pages: on
//! the writer's path, with an fsync of the database file at FULL durability, while every queued
//! send waits. The writer's connection is opened with `wal_autocheckpoint=0` instead, and this
//! task runs a `PASSIVE` checkpoint (which never blocks the writer or the readers) every
//! [`EVERY`]. Once a checkpoint has copied every frame and no reader still needs them, the
//! writer's next transaction starts the WAL over from its beginning, so the file stays about the
//! size of an interval's writes; `journal_size_limit` trims it after a burst. Durability is
//! unchanged: a commit is acknowledged once it is in the WAL, as before.

use std::time::Duration;

use sqlx::SqlitePool;

/// How often the WAL is copied into the database file: at 6,000 messages/s that is a few
/// megabytes, about what SQLite's default (1,000 pages) lets build up.
pub(crate) const EVERY: Duration = Duration::from_millis(250);

/// Largest WAL file kept once a checkpoint has emptied it (SQLite's `journal_size_limit`).
pub(crate) const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Checkpoints on `pool`'s connection until the pool is closed (the store's `close`).
pub(crate) async fn run(pool: SqlitePool) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            if pool.is_closed() {
                return;
            }
            // The next tick tries again; the WAL only grows meanwhile, nothing is lost.
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}
