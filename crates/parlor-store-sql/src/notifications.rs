//! Notifications and the per-member mute that silences them.

use parlor_core::{ConversationId, MessageId, NewNotification, Notification, NotificationKind, Timestamp, UserId};
use parlor_store::{NotificationFilter, NotificationsToRead, StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, Row, sql};

use crate::rows::corrupt;

/// How much of a message a notification previews.
const PREVIEW_CHARS: usize = 140;

const COLUMNS: &str = "n.id, n.user_id, n.kind, n.conversation_id, n.message_id, n.actor_id, a.display_name, \
     n.connection_id, n.count, m.content, m.deleted_at, n.created_at, n.updated_at, n.read_at \
     FROM notifications n LEFT JOIN users a ON a.id = n.actor_id LEFT JOIN messages m ON m.id = n.message_id";

pub async fn set_muted<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
    muted: bool,
) -> StoreResult<()> {
    let done = sql("UPDATE members SET muted = $1 WHERE conversation_id = $2 AND user_id = $3 AND active = 1")
        .bind(i64::from(muted))
        .bind(id.0)
        .bind(user.0)
        .execute(conn)
        .await?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn muted_members<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId) -> StoreResult<Vec<UserId>> {
    let found = sql("SELECT user_id FROM members WHERE conversation_id = $1 AND active = 1 AND muted = 1")
        .bind(id.0)
        .fetch_all(conn)
        .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

pub async fn add<B: Backend>(conn: &mut Conn<'_, B>, new: &[NewNotification]) -> StoreResult<Vec<Notification>> {
    let now = Timestamp::now().as_millis();
    let mut stored = Vec::with_capacity(new.len());
    for n in new {
        // Unread message notifications fold into one per conversation. The folded one is
        // replaced rather than updated, so its new id lists it as the newest. Notifications are
        // made in the background, so an older message may fold in after a newer one: the
        // newest message stays the one shown.
        let (mut count, mut created_at) = (1_i64, now);
        let (mut message_id, mut actor_id) = (n.message_id.map(|m| m.0), n.actor_id.map(|a| a.0));
        if n.kind == NotificationKind::Message {
            let folded =
                sql("DELETE FROM notifications WHERE user_id = $1 AND conversation_id = $2 AND kind = 'message' \
                 AND read_at IS NULL RETURNING count, created_at, message_id, actor_id")
                .bind(n.user_id.0)
                .bind(n.conversation_id.map(|c| c.0))
                .fetch_optional(conn)
                .await?;
            if let Some(row) = folded {
                count += row.get::<i64>(0)?;
                created_at = row.get(1)?;
                let folded_message: Option<i64> = row.get(2)?;
                if folded_message > message_id {
                    (message_id, actor_id) = (folded_message, row.get(3)?);
                }
            }
        }
        let row =
            sql("INSERT INTO notifications (user_id, kind, conversation_id, message_id, actor_id, connection_id, \
             count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(n.user_id.0)
            .bind(n.kind.as_str())
            .bind(n.conversation_id.map(|c| c.0))
            .bind(message_id)
            .bind(actor_id)
            .bind(n.contact_id)
            .bind(count)
            .bind(created_at)
            .bind(now)
            .fetch_one(conn)
            .await?;
        let id: i64 = row.get(0)?;
        let text = format!("SELECT {COLUMNS} WHERE n.id = $1");
        let row = sql(text).bind(id).fetch_one(conn).await?;
        stored.push(notification(&row)?);
    }
    Ok(stored)
}

pub async fn list<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    filter: &NotificationFilter,
) -> StoreResult<Vec<Notification>> {
    let text = format!(
        "SELECT {COLUMNS} WHERE n.user_id = $1 AND n.id < $2 AND ($3 = 0 OR n.read_at IS NULL) ORDER BY n.id DESC LIMIT $4"
    );
    let found = sql(text)
        .bind(user.0)
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(i64::from(filter.unread_only))
        .bind(i64::from(filter.limit))
        .fetch_all(conn)
        .await?;
    found.iter().map(notification).collect()
}

pub async fn unread_count<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<i64> {
    let row = sql("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user.0)
        .fetch_one(conn)
        .await?;
    row.get(0)
}

pub async fn has_unread<B: Backend>(conn: &mut Conn<'_, B>, user: UserId, id: ConversationId) -> StoreResult<bool> {
    let row =
        sql("SELECT 1 FROM notifications WHERE user_id = $1 AND conversation_id = $2 AND read_at IS NULL LIMIT 1")
            .bind(user.0)
            .bind(id.0)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

pub async fn mark_read<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    which: NotificationsToRead,
) -> StoreResult<u64> {
    let now = Timestamp::now().as_millis();
    let (filter, target) = match which {
        NotificationsToRead::One(id) => (" AND id = $3", Some(id)),
        NotificationsToRead::All => ("", None),
        NotificationsToRead::Conversation(c) => (" AND conversation_id = $3", Some(c.0)),
    };
    let text = format!("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL{filter}");
    let mut query = sql(text).bind(now).bind(user.0);
    if let Some(target) = target {
        query = query.bind(target);
    }
    query.execute(conn).await
}

fn notification<B: Backend>(row: &Row<B>) -> StoreResult<Notification> {
    let kind: String = row.get(2)?;
    let content: Option<String> = row.get(9)?;
    let deleted: Option<i64> = row.get(10)?;
    Ok(Notification {
        id: row.get(0)?,
        user_id: UserId(row.get(1)?),
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt(format!("notification kind {kind}")))?,
        conversation_id: row.get::<Option<i64>>(3)?.map(ConversationId),
        message_id: row.get::<Option<i64>>(4)?.map(MessageId),
        actor_id: row.get::<Option<i64>>(5)?.map(UserId),
        actor_name: row.get(6)?,
        contact_id: row.get(7)?,
        count: row.get(8)?,
        preview: match (content, deleted) {
            (Some(text), None) => text.chars().take(PREVIEW_CHARS).collect(),
            _ => String::new(),
        },
        created_at: Timestamp::from_millis(row.get(11)?),
        updated_at: Timestamp::from_millis(row.get(12)?),
        read: row.get::<Option<i64>>(13)?.is_some(),
    })
}
