//! The read connections: a pool of SQLite connections handed out and taken back as they are.
//!
//! Not sqlx's pool, because that one pings every connection given back: one more trip to the
//! connection's thread and back, and a task spawned for it, after every read (about a fifth of
//! a history page's thread switches, docs/benchmarks.md). The ping is there to find broken
//! network connections and flush a cancelled statement; neither happens here. A connection to
//! a local file does not go stale, and sqlx runs each SQLite statement to its end on the
//! connection's own thread even when its caller stops waiting (the statement is reset there,
//! and a transaction dropped unfinished queues its rollback ahead of the next statement), so a
//! connection comes back ready for the next read whatever happened to the last one.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};

use parlor_store::StoreResult;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::rows::db;

/// Up to `max` read connections, opened when first needed and kept open.
pub struct Readers {
    shared: Arc<Shared>,
}

struct Shared {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    /// One permit per connection that may be open; a reader holds one while it reads.
    permits: Arc<Semaphore>,
}

/// A read connection, given back to [`Readers`] when dropped.
pub struct Reader {
    conn: Option<SqliteConnection>,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    pub fn new(options: SqliteConnectOptions, max: usize) -> Self {
        let shared = Shared { options, idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(max)) };
        Self { shared: Arc::new(shared) }
    }

    /// An idle connection, a new one while fewer than `max` are open, or else the first one
    /// given back.
    pub async fn acquire(&self) -> StoreResult<Reader> {
        let permit = Arc::clone(&self.shared.permits).acquire_owned().await.map_err(|_| db(sqlx::Error::PoolClosed))?;
        let idle = self.shared.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.shared.options.connect().await.map_err(db)?,
        };
        Ok(Reader { conn: Some(conn), shared: Arc::clone(&self.shared), _permit: permit })
    }

    /// Closes the idle connections and refuses new readers; one in use closes when dropped.
    pub async fn close(&self) {
        self.shared.permits.close();
        let idle = std::mem::take(&mut *self.shared.idle());
        for conn in idle {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

impl Shared {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The list is consistent whatever panicked while it was held: a push or a pop.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.shared.permits.is_closed()
        {
            self.shared.idle().push(conn);
        }
    }
}

impl Deref for Reader {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a reader holds its connection until dropped"))
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!("a reader holds its connection until dropped"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::{Connection as _, Row as _};

    use super::*;

    async fn readers(dir: &tempfile::TempDir, max: usize) -> Readers {
        let options = SqliteConnectOptions::new().filename(dir.path().join("r.db")).create_if_missing(true);
        let readers = Readers::new(options, max);
        let mut first = readers.acquire().await.expect("reader");
        sqlx::query("CREATE TABLE IF NOT EXISTS n (v INTEGER)").execute(&mut *first).await.expect("table");
        sqlx::query("WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c WHERE v < 20000) INSERT INTO n SELECT v FROM c")
            .execute(&mut *first)
            .await
            .expect("rows");
        readers
    }

    #[tokio::test]
    async fn a_reader_waits_for_one_given_back_and_gets_that_connection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let readers = readers(&dir, 1).await;
        let mut out = readers.acquire().await.expect("reader");
        sqlx::query("CREATE TEMP TABLE mark (v INTEGER)").execute(&mut *out).await.expect("temp table");
        let waiting = tokio::time::timeout(Duration::from_millis(200), readers.acquire()).await;
        assert!(waiting.is_err(), "a second reader got a connection while the only one was out");
        drop(out);
        let mut back = readers.acquire().await.expect("reader");
        // Temporary tables live as long as their connection: the same one came back.
        sqlx::query("SELECT count(*) FROM mark").fetch_one(&mut *back).await.expect("the same connection");
    }

    #[tokio::test]
    async fn a_read_abandoned_midway_leaves_its_connection_ready() {
        let dir = tempfile::tempdir().expect("temp dir");
        let readers = readers(&dir, 1).await;
        let mut conn = readers.acquire().await.expect("reader");
        let mut tx = conn.begin().await.expect("begin");
        let slow = sqlx::query("SELECT v FROM n ORDER BY v * 7 % 13, v DESC").fetch_all(&mut *tx);
        assert!(tokio::time::timeout(Duration::from_micros(50), slow).await.is_err(), "the read was not cut short");
        drop(tx);
        drop(conn);
        let mut conn = readers.acquire().await.expect("reader");
        // The abandoned transaction was rolled back: a new one begins, and reads.
        let mut tx = conn.begin().await.expect("a transaction after the abandoned one");
        let row = sqlx::query("SELECT count(*) FROM n").fetch_one(&mut *tx).await.expect("count");
        assert_eq!(row.get::<i64, _>(0), 20000);
    }

    #[tokio::test]
    async fn closed_readers_refuse_new_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let readers = readers(&dir, 2).await;
        readers.close().await;
        assert!(readers.acquire().await.is_err());
    }
}
