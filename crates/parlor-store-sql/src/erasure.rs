//! Erasing an account (docs/privacy.md): everything that says who the user was or what they did
//! goes, in one transaction, except what a legal hold keeps. The user's row stays, emptied, so
//! the ids in messages and the event log still point at someone: "Deleted user".

use parlor_core::{ConversationId, MessageId, Timestamp, UserId};
use parlor_store::{Erasure, ErasureMode, QueuedUserDeleted, StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, Statement, sql};
use crate::{exports, lifecycle, retention, webhooks};

/// The name an erased account is shown with.
pub const DELETED_USER: &str = "Deleted user";

pub async fn erase_user<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    mode: ErasureMode,
    hook: &QueuedUserDeleted,
) -> StoreResult<Erasure> {
    if user == UserId::SYSTEM {
        return Err(StoreError::NotFound);
    }
    let name: String = sql("SELECT display_name FROM users WHERE id = $1 AND erased_at IS NULL")
        .bind(user.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .get(0)?;
    let now = Timestamp::now();
    let memberships = sql("SELECT mb.conversation_id, c.kind, mb.role, mb.active FROM members mb \
         JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = $1 ORDER BY mb.conversation_id")
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    let ids = memberships.iter().map(|r| r.get::<i64>(0)).collect::<StoreResult<Vec<_>>>()?;
    // Every conversation's row before any other row, in id order, as every writer takes them.
    B::lock_conversations(conn, &ids).await?;
    let held = retention::held_among(conn, &ids).await?;
    let mut erasure = Erasure::default();

    if mode == ErasureMode::Delete {
        let mut q = sql("SELECT m.id FROM messages m WHERE m.sender_id = ");
        q.push_bind(user.0).push(" AND m.deleted_at IS NULL AND m.kind <> 'system'");
        outside(&mut q, &held).push(" ORDER BY m.conversation_id, m.seq");
        for row in q.fetch_all(conn).await? {
            if let Some((event, file)) = lifecycle::erase(conn, MessageId(row.get(0)?), now).await? {
                erasure.events.push(event);
                erasure.files.extend(file);
            }
        }
    }
    // What is theirs in every conversation not under a hold, kept or deleted: earlier versions
    // (moderation copies), device ids of retries, reactions, their name in system messages.
    let mut q =
        sql("DELETE FROM message_versions WHERE message_id IN (SELECT m.id FROM messages m WHERE m.sender_id = ");
    q.push_bind(user.0);
    outside(&mut q, &held).push(")");
    q.execute(conn).await?;
    sql("UPDATE messages SET client_id = NULL WHERE sender_id = $1 AND client_id IS NOT NULL")
        .bind(user.0)
        .execute(conn)
        .await?;
    let mut q = sql("DELETE FROM reactions WHERE user_id = ");
    q.push_bind(user.0).push(" AND message_id IN (SELECT m.id FROM messages m WHERE 1 = 1");
    outside(&mut q, &held).push(")");
    q.execute(conn).await?;
    let kept: Vec<i64> = ids.iter().copied().filter(|id| !held.contains(id)).collect();
    if !kept.is_empty() {
        let mut q = sql("UPDATE messages SET content = REPLACE(content, ");
        q.push_bind(name.clone())
            .push(", ")
            .push_bind(DELETED_USER)
            .push(") WHERE kind = 'system' AND REPLACE(content, ");
        q.push_bind(name.clone()).push(", ").push_bind(DELETED_USER).push(") <> content AND conversation_id IN (");
        q.push_list(kept.iter().copied()).push(")");
        q.execute(conn).await?;
    }

    for row in &memberships {
        let (id, kind, role, active): (i64, String, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        if held.contains(&id) {
            continue;
        }
        if kind == "direct" {
            // The pair's conversation keeps both sides, one of them "Deleted user"; only when
            // they read and received goes.
            sql("UPDATE members SET last_read_seq = 0, delivered_seq = 0, muted = 0 \
                 WHERE conversation_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.0)
            .execute(conn)
            .await?;
            continue;
        }
        if role == "owner" && active == 1 {
            hand_over(conn, id, user).await?;
        }
        sql("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.0)
            .execute(conn)
            .await?;
        erasure.conversations.push(ConversationId(id));
    }

    for statement in [
        "DELETE FROM notifications WHERE user_id = $1 OR actor_id = $1",
        "DELETE FROM refresh_tokens WHERE user_id = $1",
        "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
        "DELETE FROM connections WHERE requester_id = $1 OR addressee_id = $1",
        "DELETE FROM reports WHERE reporter_id = $1",
        "DELETE FROM push_subscriptions WHERE user_id = $1",
        "DELETE FROM notification_settings WHERE user_id = $1",
        "DELETE FROM email_sent WHERE user_id = $1",
    ] {
        sql(statement).bind(user.0).execute(conn).await?;
    }
    sql("UPDATE users SET username = NULL, external_id = NULL, display_name = $1, avatar_url = NULL, \
         password_hash = NULL, email = NULL, last_seen_at = NULL, hide_last_seen = 1, is_admin = 0, disabled_at = $2, \
         erased_at = $2 WHERE id = $3")
    .bind(DELETED_USER)
    .bind(now.as_millis())
    .bind(user.0)
    .execute(conn)
    .await?;
    erasure.exports = exports::erase(conn, user).await?;
    webhooks::forget_notifications_of(conn, user).await?;
    webhooks::queue_user_deleted(conn, hook).await?;
    B::scrub_search_index(conn).await?;
    Ok(erasure)
}

/// Limits `q` (over messages `m`) to conversations not under a hold.
fn outside<'q, 's>(q: &'s mut Statement<'q>, held: &[i64]) -> &'s mut Statement<'q> {
    if !held.is_empty() {
        q.push(" AND m.conversation_id NOT IN (").push_list(held.iter().copied()).push(")");
    }
    q
}

/// The room's only owner is leaving for good: its longest-standing member becomes an owner, so
/// the room is never left without one (the rule `change_members` keeps).
async fn hand_over<B: Backend>(conn: &mut Conn<'_, B>, id: i64, leaving: UserId) -> StoreResult<()> {
    let others = sql("SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND active = 1 AND role = 'owner' \
         AND user_id <> $2")
    .bind(id)
    .bind(leaving.0)
    .fetch_one(conn)
    .await?
    .get::<i64>(0)?;
    if others > 0 {
        return Ok(());
    }
    sql("UPDATE members SET role = 'owner' WHERE conversation_id = $1 AND user_id = (SELECT user_id FROM members \
         WHERE conversation_id = $1 AND active = 1 AND user_id <> $2 ORDER BY joined_at, user_id LIMIT 1)")
    .bind(id)
    .bind(leaving.0)
    .execute(conn)
    .await?;
    Ok(())
}
