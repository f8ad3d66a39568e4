//! The SQLite store passes the storage conformance suite, each check on a fresh database file.

use std::sync::atomic::{AtomicUsize, Ordering};

use parlor_store::Store;
use parlor_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir for test databases");
    let counter = AtomicUsize::new(0);
    parlor_store::conformance::run_all(|| {
        let path = dir.path().join(format!("store-{}.db", counter.fetch_add(1, Ordering::Relaxed)));
        async move { Box::new(SqliteStore::open(&path).await.expect("open test database")) as Box<dyn Store> }
    })
    .await;
}
