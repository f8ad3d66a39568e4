//! Email to people who are away: addresses, and which notifications a mail covered
//! (`email_sent`, one row per user and conversation).

use parlor_core::{ConversationId, EmailAddress, Timestamp, UserId};
use parlor_store::{MailMark, StoreError, StoreResult, Unmailed};

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

/// The shortest delay a user can choose (`EmailDelay`: a minute): no notification younger than
/// this, or the server's default if shorter, can be due, which keeps the scan on the index.
const SHORTEST_USER_DELAY_MS: i64 = 60_000;

pub async fn unmailed<B: Backend>(
    conn: &mut Conn<'_, B>,
    now: Timestamp,
    default_delay_ms: i64,
    limit: u32,
) -> StoreResult<Vec<Unmailed>> {
    let made_before = now.as_millis() - default_delay_ms.min(SHORTEST_USER_DELAY_MS);
    // `$2`: the user's delay in milliseconds, or the server's.
    let found = sql("SELECT n.user_id, u.email, n.conversation_id, MAX(n.id), s.mailed_at, \
         s.through_id FROM notifications n \
         JOIN users u ON u.id = n.user_id \
         LEFT JOIN notification_settings ns ON ns.user_id = n.user_id \
         LEFT JOIN email_sent s ON s.user_id = n.user_id AND s.conversation_id = n.conversation_id \
         WHERE n.read_at IS NULL AND n.created_at <= $3 AND n.kind IN ('message', 'mention') \
         AND n.conversation_id IS NOT NULL AND u.email IS NOT NULL AND u.disabled_at IS NULL \
         AND n.id > COALESCE(s.through_id, 0) \
         AND n.created_at + COALESCE(ns.email_delay_minutes * 60000, $2) <= $1 \
         AND (s.mailed_at IS NULL OR s.mailed_at + COALESCE(ns.email_delay_minutes * 60000, $2) <= $1) \
         GROUP BY n.user_id, u.email, n.conversation_id, s.mailed_at, s.through_id \
         ORDER BY MIN(n.created_at), n.user_id, n.conversation_id LIMIT $4")
    .bind(now.as_millis())
    .bind(default_delay_ms)
    .bind(made_before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    found
        .iter()
        .map(|row| {
            let mailed_at: Option<i64> = row.get(4)?;
            let through_id: Option<i64> = row.get(5)?;
            Ok(Unmailed {
                user_id: UserId(row.get(0)?),
                email: row.get(1)?,
                conversation_id: ConversationId(row.get(2)?),
                newest_id: row.get(3)?,
                last_mail: mailed_at
                    .zip(through_id)
                    .map(|(at, through_id)| MailMark { through_id, at: Timestamp::from_millis(at) }),
            })
        })
        .collect()
}

/// Compare-and-set on `email_sent`: each statement changes the row only while it holds `from`,
/// so of two nodes claiming the same mail exactly one sees a row changed.
pub async fn swap_mail_mark<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    id: ConversationId,
    from: Option<MailMark>,
    to: Option<MailMark>,
) -> StoreResult<bool> {
    let changed = match (from, to) {
        (None, None) => return Ok(true),
        (None, Some(to)) => {
            sql("INSERT INTO email_sent (user_id, conversation_id, through_id, mailed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, conversation_id) DO NOTHING")
            .bind(user.0)
            .bind(id.0)
            .bind(to.through_id)
            .bind(to.at.as_millis())
            .execute(conn)
            .await?
        }
        (Some(from), Some(to)) => {
            sql("UPDATE email_sent SET through_id = $3, mailed_at = $4 \
                 WHERE user_id = $1 AND conversation_id = $2 AND through_id = $5 AND mailed_at = $6")
            .bind(user.0)
            .bind(id.0)
            .bind(to.through_id)
            .bind(to.at.as_millis())
            .bind(from.through_id)
            .bind(from.at.as_millis())
            .execute(conn)
            .await?
        }
        (Some(from), None) => sql(
            "DELETE FROM email_sent WHERE user_id = $1 AND conversation_id = $2 AND through_id = $3 AND mailed_at = $4",
        )
        .bind(user.0)
        .bind(id.0)
        .bind(from.through_id)
        .bind(from.at.as_millis())
        .execute(conn)
        .await?,
    };
    Ok(changed == 1)
}
