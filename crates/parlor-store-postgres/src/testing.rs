//! Throwaway databases for tests (behind the `testing` feature): this crate's conformance and
//! multi-node tests, and the server's API suite when it runs on PostgreSQL.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sqlx::{Connection, PgConnection};

/// The environment variable naming the server tests create their databases on.
pub const URL_VAR: &str = "PARLOR_TEST_POSTGRES_URL";

/// The admin URL from [`URL_VAR`], or `None` with a line saying the test is skipped. Panics
/// when `CI` is set: there the PostgreSQL tests must run, never skip silently.
pub fn admin_url_or_skip(test: &str) -> Option<String> {
    admin_url_from_or_skip(URL_VAR, test)
}

/// As [`admin_url_or_skip`], reading `var`.
pub fn admin_url_from_or_skip(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: {var} is unset, and CI must run the PostgreSQL tests")
        }
        _ => {
            eprintln!("{test}: skipped: set {var} (e.g. postgres://postgres@127.0.0.1:5432/test) to run it");
            None
        }
    }
}

/// A database that exists until this is dropped.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Drop runs outside async code: a plain thread with its own small runtime.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Creates an empty database `parlor_t_<pid>_<n>` on the server of `admin_url` (a URL of any
/// database there, with the right to create databases) and returns its URL and the guard that
/// drops it (`WITH (FORCE)`, so connections left open do not keep it alive).
pub async fn fresh_database(admin_url: &str) -> Result<(String, FreshDatabase), sqlx::Error> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let name = format!("parlor_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut conn = PgConnection::connect(admin_url).await?;
    if !SWEPT.swap(true, Ordering::Relaxed) {
        drop_orphans(&mut conn).await?;
    }
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
    conn.close().await?;
    let url = with_database(admin_url, &name);
    Ok((url, FreshDatabase { admin_url: admin_url.to_owned(), name }))
}

/// Drops the test databases of processes that have ended (a test that panicked, or kept its
/// guard in a `static`, leaves them behind). Only where `/proc` tells which processes run.
async fn drop_orphans(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    if !std::path::Path::new("/proc/self").exists() {
        return Ok(());
    }
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'parlor\\_t\\_%'")
        .fetch_all(&mut *conn)
        .await?;
    for (name,) in names {
        let pid = name.strip_prefix("parlor_t_").and_then(|rest| rest.split('_').next());
        let ended = pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if ended {
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// `url` with its database (the path) replaced by `name`, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_swapped_and_options_kept() {
        assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
