//! The SQLite store passes the storage conformance suite, one test per check, each on a fresh
//! database file.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use parlor_store::conformance::Fresh;

async fn fresh(_check: &'static str) -> Option<Fresh> {
    let dir = tempfile::tempdir().expect("temp dir for the test database");
    let store = parlor_store_sqlite::open(&dir.path().join("store.db")).await.expect("open test database");
    Some(Fresh { store: Box::new(store), keep: Box::new(dir) })
}

parlor_store::conformance_tests!(fresh);
