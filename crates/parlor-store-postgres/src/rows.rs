//! PostgreSQL's errors as the store reports them, and which of them mean "run it again".

use parlor_store::StoreError;

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Unavailable,
        // Every connection stayed in use for the pool's whole wait: overload, not a fault.
        sqlx::Error::PoolTimedOut => StoreError::Busy,
        sqlx::Error::Database(ref d) => match d.code().as_deref() {
            // disk_full: the operator needs to tell it apart from a bug.
            Some("53100") => StoreError::Full,
            // lock_not_available (a lock_timeout ran out): a retry may succeed.
            Some("55P03") => StoreError::Busy,
            _ => StoreError::backend(e),
        },
        other => StoreError::backend(other),
    }
}

/// True for a transaction PostgreSQL aborted so that another could go on: a deadlock
/// (40P01) or a serialization failure (40001). Running it again is safe and usually succeeds.
/// So is one that lost a race to insert a row whose existence it had checked for: the user
/// another node saw first, the unread notification another node folded into. Run again, it
/// finds the winner's row and takes the path for an existing one.
pub(crate) fn is_retryable(e: &StoreError) -> bool {
    /// Unique indexes guarding "insert unless it exists" paths.
    const CHECKED_FIRST: [&str; 2] = ["users_external_id_key", "notifications_collapsed"];
    let StoreError::Backend(inner) = e else { return false };
    let Some(sqlx::Error::Database(d)) = inner.downcast_ref::<sqlx::Error>() else { return false };
    match d.code().as_deref() {
        Some("40P01" | "40001") => true,
        Some("23505") => d.constraint().is_some_and(|c| CHECKED_FIRST.contains(&c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pool_wait_that_runs_out_is_busy_not_a_fault() {
        assert!(matches!(super::db(sqlx::Error::PoolTimedOut), parlor_store::StoreError::Busy));
    }
}
