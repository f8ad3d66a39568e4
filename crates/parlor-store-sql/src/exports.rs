//! Self-service data exports (docs/privacy.md §5): requests checked against the one-at-a-time
//! and per-window bounds in the transaction that stores them, runs claimed for a while (a
//! claim that runs out is taken over: the node building it stopped), outcomes, and expiry.

use parlor_core::{Timestamp, UserId};
use parlor_store::{ExportJob, ExportOutcome, ExportQuota, ExportStatus, StoreError, StoreResult};

use crate::backend::Backend;
use crate::rows::corrupt;
use crate::statement::{Conn, Row, sql};

const COLUMNS: &str = "id, user_id, status, created_at, attempts, finished_at, expires_at, size_bytes, blob_key, error";

fn job<B: Backend>(row: &Row<B>) -> StoreResult<ExportJob> {
    let status: String = row.get(2)?;
    Ok(ExportJob {
        id: row.get(0)?,
        user_id: UserId(row.get(1)?),
        status: ExportStatus::parse(&status).ok_or_else(|| corrupt(format!("export status {status}")))?,
        created_at: Timestamp::from_millis(row.get(3)?),
        attempts: u32::try_from(row.get::<i64>(4)?).unwrap_or(u32::MAX),
        finished_at: row.get::<Option<i64>>(5)?.map(Timestamp::from_millis),
        expires_at: row.get::<Option<i64>>(6)?.map(Timestamp::from_millis),
        size_bytes: row.get::<Option<i64>>(7)?.map(|n| u64::try_from(n).unwrap_or_default()),
        blob_key: row.get(8)?,
        error: row.get(9)?,
    })
}

pub async fn request<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    at: Timestamp,
    quota: ExportQuota,
) -> StoreResult<ExportJob> {
    let counts = sql("SELECT COUNT(*) FILTER (WHERE status IN ('pending', 'running')), \
         COUNT(*) FILTER (WHERE created_at >= $2) FROM exports WHERE user_id = $1")
    .bind(user.0)
    .bind(quota.since.as_millis())
    .fetch_one(conn)
    .await?;
    if counts.get::<i64>(0)? > 0 {
        return Err(StoreError::Conflict("export"));
    }
    if counts.get::<i64>(1)? >= i64::from(quota.max) {
        return Err(StoreError::Rule("export_quota"));
    }
    // The partial unique index `exports_in_progress` settles two requests racing past the count.
    let row = sql(format!(
        "INSERT INTO exports (user_id, status, created_at, attempts) VALUES ($1, 'pending', $2, 0) RETURNING {COLUMNS}"
    ))
    .bind(user.0)
    .bind(at.as_millis())
    .conflict("export")
    .fetch_one(conn)
    .await?;
    job(&row)
}

pub async fn claim<B: Backend>(
    conn: &mut Conn<'_, B>,
    now: Timestamp,
    lease_until: Timestamp,
    max_attempts: u32,
) -> StoreResult<Option<ExportJob>> {
    // Runs whose node stopped too often are given up on, rather than retried forever.
    sql("UPDATE exports SET status = 'failed', error = 'interrupted', finished_at = $1, lease_until = NULL \
         WHERE status = 'running' AND lease_until < $1 AND attempts >= $2")
    .bind(now.as_millis())
    .bind(max_attempts)
    .execute(conn)
    .await?;
    let claimable = "status = 'pending' OR (status = 'running' AND lease_until < $1)";
    let row = sql(format!(
        "UPDATE exports SET status = 'running', lease_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM exports WHERE {claimable} ORDER BY id LIMIT 1) AND ({claimable}) \
         RETURNING {COLUMNS}"
    ))
    .bind(now.as_millis())
    .bind(lease_until.as_millis())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(job).transpose()
}

pub async fn finish<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: i64,
    at: Timestamp,
    outcome: &ExportOutcome,
) -> StoreResult<()> {
    let statement = match outcome {
        ExportOutcome::Ready { blob_key, size_bytes, expires_at } => sql(
            "UPDATE exports SET status = 'ready', finished_at = $2, blob_key = $3, size_bytes = $4, expires_at = $5, \
             lease_until = NULL WHERE id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(at.as_millis())
        .bind(blob_key.as_str())
        .bind(i64::try_from(*size_bytes).unwrap_or(i64::MAX))
        .bind(expires_at.as_millis()),
        ExportOutcome::Failed { error } => {
            sql("UPDATE exports SET status = 'failed', finished_at = $2, error = $3, lease_until = NULL \
             WHERE id = $1 AND status = 'running'")
            .bind(id)
            .bind(at.as_millis())
            .bind(error.as_str())
        }
    };
    if statement.execute(conn).await? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn by_id<B: Backend>(conn: &mut Conn<'_, B>, id: i64) -> StoreResult<Option<ExportJob>> {
    let row = sql(format!("SELECT {COLUMNS} FROM exports WHERE id = $1")).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(job).transpose()
}

pub async fn of_user<B: Backend>(conn: &mut Conn<'_, B>, user: UserId, limit: u32) -> StoreResult<Vec<ExportJob>> {
    let rows = sql(format!("SELECT {COLUMNS} FROM exports WHERE user_id = $1 ORDER BY id DESC LIMIT $2"))
        .bind(user.0)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(job).collect()
}

pub async fn expire<B: Backend>(
    conn: &mut Conn<'_, B>,
    now: Timestamp,
    forget_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<ExportJob>> {
    let rows =
        sql(format!("SELECT {COLUMNS} FROM exports WHERE status = 'ready' AND expires_at < $1 ORDER BY id LIMIT $2"))
            .bind(now.as_millis())
            .bind(limit)
            .fetch_all(conn)
            .await?;
    let expired = rows.iter().map(job).collect::<StoreResult<Vec<_>>>()?;
    if !expired.is_empty() {
        let mut q = sql("UPDATE exports SET status = 'expired', blob_key = NULL WHERE id IN (");
        q.push_list(expired.iter().map(|j| j.id)).push(")");
        q.execute(conn).await?;
    }
    sql("DELETE FROM exports WHERE status IN ('failed', 'expired') AND created_at < $1")
        .bind(forget_before.as_millis())
        .execute(conn)
        .await?;
    Ok(expired)
}

/// Deletes the user's exports (their erasure) and returns their archives' keys.
pub async fn erase<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<String>> {
    let rows = sql("SELECT blob_key FROM exports WHERE user_id = $1 AND blob_key IS NOT NULL")
        .bind(user.0)
        .fetch_all(conn)
        .await?;
    let keys = rows.iter().map(|r| r.get::<String>(0)).collect::<StoreResult<Vec<_>>>()?;
    sql("DELETE FROM exports WHERE user_id = $1").bind(user.0).execute(conn).await?;
    Ok(keys)
}
