//! Email to people who are away: addresses, and which notifications a mail covered
//! (`email_sent`, one row per user and conversation).

use parlor_core::{ConversationId, EmailAddress, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult, Unmailed};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

pub async fn set_email<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    email: Option<&EmailAddress>,
) -> StoreResult<()> {
    let done = sql("UPDATE users SET email = $1 WHERE id = $2 AND id != 0")
        .bind(email.map(EmailAddress::as_str))
        .bind(user.0)
        .execute(conn)
        .await?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn unmailed<B: Backend>(
    conn: &mut Conn<'_, B>,
    made_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Unmailed>> {
    let found = sql("SELECT n.user_id, u.email, n.conversation_id, MIN(n.created_at), MAX(n.id), s.mailed_at, \
         COALESCE(s.through_id, 0) FROM notifications n \
         JOIN users u ON u.id = n.user_id \
         LEFT JOIN email_sent s ON s.user_id = n.user_id AND s.conversation_id = n.conversation_id \
         WHERE n.read_at IS NULL AND n.created_at < $1 AND n.kind IN ('message', 'mention') \
         AND n.conversation_id IS NOT NULL AND u.email IS NOT NULL AND u.disabled_at IS NULL \
         AND n.id > COALESCE(s.through_id, 0) \
         GROUP BY n.user_id, u.email, n.conversation_id, s.mailed_at, s.through_id \
         ORDER BY MIN(n.created_at), n.user_id, n.conversation_id LIMIT $2")
    .bind(made_before.as_millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    found
        .iter()
        .map(|row| {
            Ok(Unmailed {
                user_id: UserId(row.get(0)?),
                email: row.get(1)?,
                conversation_id: ConversationId(row.get(2)?),
                oldest_at: Timestamp::from_millis(row.get(3)?),
                newest_id: row.get(4)?,
                last_mailed_at: row.get::<Option<i64>>(5)?.map(Timestamp::from_millis),
                after_id: row.get(6)?,
            })
        })
        .collect()
}

pub async fn record_mailed<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    id: ConversationId,
    through: i64,
    at: Timestamp,
) -> StoreResult<()> {
    sql("INSERT INTO email_sent (user_id, conversation_id, through_id, mailed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET through_id = excluded.through_id, mailed_at = excluded.mailed_at")
    .bind(user.0)
    .bind(id.0)
    .bind(through)
    .bind(at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}
