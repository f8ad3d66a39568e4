//! The PostgreSQL store passes the storage conformance suite, one test per check, each on a
//! fresh database. Needs `PARLOR_TEST_POSTGRES_URL` (skipped without it, except under `CI`).

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use parlor_store::conformance::Fresh;
use parlor_store_postgres::Options;
use parlor_store_postgres::testing::{admin_url_or_skip, fresh_database};

async fn fresh(check: &'static str) -> Option<Fresh> {
    let admin = admin_url_or_skip(check)?;
    let (url, database) = fresh_database(&admin).await.expect("create a test database");
    let store = parlor_store_postgres::connect(&url, Options::default()).await.expect("connect to the test database");
    Some(Fresh { store: Box::new(store), keep: Box::new(database) })
}

parlor_store::conformance_tests!(fresh);
