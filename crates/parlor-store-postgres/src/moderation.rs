//! Blocks between users and reports of messages.

use parlor_core::{MessageId, Timestamp, UserId};
use parlor_store::{Report, StoreResult};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::rows::{self, conflict_or_backend, db};

pub(crate) async fn set_block(
    conn: &mut PgConnection,
    blocker: UserId,
    blocked: UserId,
    on: bool,
) -> StoreResult<bool> {
    crate::users::ensure_exists(conn, blocked).await?;
    let done = if on {
        sqlx::query(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(blocker.0)
        .bind(blocked.0)
        .bind(Timestamp::now().as_millis())
        .execute(conn)
        .await
    } else {
        sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker.0)
            .bind(blocked.0)
            .execute(conn)
            .await
    };
    Ok(done.map_err(db)?.rows_affected() > 0)
}

pub(crate) async fn blocked_by(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query("SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY created_at, blocked_id")
        .bind(user.0)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

pub(crate) async fn block_partners(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query(
        "SELECT blocked_id FROM blocks WHERE blocker_id = $1 UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

pub(crate) async fn blocked_between(conn: &mut PgConnection, a: UserId, b: UserId) -> StoreResult<bool> {
    let found = sqlx::query(
        "SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    Ok(found.is_some())
}

pub(crate) async fn report(
    conn: &mut PgConnection,
    message: MessageId,
    reporter: UserId,
    reason: &str,
) -> StoreResult<Report> {
    let row = sqlx::query(
        "INSERT INTO reports (message_id, reporter_id, reason, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, message_id, reporter_id, reason, created_at",
    )
    .bind(message.0)
    .bind(reporter.0)
    .bind(reason)
    .bind(Timestamp::now().as_millis())
    .fetch_one(conn)
    .await
    .map_err(conflict_or_backend("report"))?;
    report_row(&row)
}

pub(crate) async fn reports(conn: &mut PgConnection, limit: u32) -> StoreResult<Vec<Report>> {
    let found =
        sqlx::query("SELECT id, message_id, reporter_id, reason, created_at FROM reports ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await
            .map_err(db)?;
    found.iter().map(report_row).collect()
}

fn report_row(row: &PgRow) -> StoreResult<Report> {
    Ok(Report {
        id: rows::get(row, 0)?,
        message_id: MessageId(rows::get(row, 1)?),
        reporter_id: UserId(rows::get(row, 2)?),
        reason: rows::get(row, 3)?,
        created_at: Timestamp::from_millis(rows::get(row, 4)?),
    })
}
