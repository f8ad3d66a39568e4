//! The PostgreSQL store passes the storage conformance suite, each check on a fresh database.
//! Needs `PARLOR_TEST_POSTGRES_URL` (skipped without it, except under `CI`).

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Mutex;

use parlor_store::Store;
use parlor_store_postgres::testing::{FreshDatabase, admin_url_or_skip, fresh_database};
use parlor_store_postgres::{Options, PostgresStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(admin) = admin_url_or_skip("postgres_store_passes_the_conformance_suite") else { return };
    // The previous check's database goes when the next one is made (its store is closed by then).
    let previous: Mutex<Option<FreshDatabase>> = Mutex::new(None);
    parlor_store::conformance::run_all(|| {
        let admin = admin.clone();
        let previous = &previous;
        async move {
            let (url, guard) = fresh_database(&admin).await.expect("create a test database");
            let stale = previous.lock().expect("guard lock").replace(guard);
            drop(stale);
            let store = PostgresStore::connect(&url, Options::default()).await.expect("connect to the test database");
            Box::new(store) as Box<dyn Store>
        }
    })
    .await;
    let last = previous.lock().expect("guard lock").take();
    drop(last);
}
