//! How a [`SqlStore`](crate::SqlStore) method runs its statements: `read!` on a reader
//! connection, `write!` in a write transaction on the writer connection, run again while the
//! backend says a failure was a lost race. Used by `store.rs` (declared before it in `lib.rs`).

/// Runs `$body` with `$conn` bound to a reader connection.
macro_rules! read {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $store.backend.reader().await?;
        let $conn = &mut Conn::<B>::new(&mut *pooled);
        $body.await
    }};
}

/// Runs `$body` in a write transaction, running it again (the whole of it: `$body` is
/// evaluated afresh) while the backend says the failure was a lost race.
macro_rules! write {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut pooled = $store.backend.writer().await?;
            let outcome = async {
                let mut tx = sqlx::Connection::begin_with(&mut *pooled, B::BEGIN_WRITE).await.map_err(B::error)?;
                let $conn = &mut Conn::<B>::new(&mut *tx);
                let out = $body.await?;
                B::before_commit($conn).await?;
                tx.commit().await.map_err(B::error)?;
                Ok::<_, StoreError>(out)
            }
            .await;
            B::release(pooled, &outcome).await;
            match outcome {
                Err(e) if B::retry(&e, attempt).await => {}
                other => break other,
            }
        }
    }};
}
