//! Blocks between users and reports of messages.

use parlor_core::{MessageId, Report, Timestamp, UserId};
use parlor_store::StoreResult;

use crate::backend::Backend;
use crate::statement::{Conn, Row, sql};

pub async fn set_block<B: Backend>(
    conn: &mut Conn<'_, B>,
    blocker: UserId,
    blocked: UserId,
    on: bool,
) -> StoreResult<bool> {
    crate::users::ensure_exists(conn, blocked).await?;
    let done = if on {
        sql("INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(blocker.0)
            .bind(blocked.0)
            .bind(Timestamp::now().as_millis())
            .execute(conn)
            .await
    } else {
        sql("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker.0)
            .bind(blocked.0)
            .execute(conn)
            .await
    };
    Ok(done? > 0)
}

pub async fn blocked_by<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sql("SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY created_at, blocked_id")
        .bind(user.0)
        .fetch_all(conn)
        .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

pub async fn block_partners<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sql(
        "SELECT blocked_id FROM blocks WHERE blocker_id = $1 UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

pub async fn blocked_between<B: Backend>(conn: &mut Conn<'_, B>, a: UserId, b: UserId) -> StoreResult<bool> {
    let found = sql(
        "SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn report<B: Backend>(
    conn: &mut Conn<'_, B>,
    message: MessageId,
    reporter: UserId,
    reason: &str,
) -> StoreResult<Report> {
    let row = sql("INSERT INTO reports (message_id, reporter_id, reason, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, message_id, reporter_id, reason, created_at")
    .bind(message.0)
    .bind(reporter.0)
    .bind(reason)
    .bind(Timestamp::now().as_millis())
    .conflict("report")
    .fetch_one(conn)
    .await?;
    report_row(&row)
}

pub async fn reports<B: Backend>(conn: &mut Conn<'_, B>, limit: u32) -> StoreResult<Vec<Report>> {
    let found = sql("SELECT id, message_id, reporter_id, reason, created_at FROM reports ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?;
    found.iter().map(report_row).collect()
}

fn report_row<B: Backend>(row: &Row<B>) -> StoreResult<Report> {
    Ok(Report {
        id: row.get(0)?,
        message_id: MessageId(row.get(1)?),
        reporter_id: UserId(row.get(2)?),
        reason: row.get(3)?,
        created_at: Timestamp::from_millis(row.get(4)?),
    })
}
