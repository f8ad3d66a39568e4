//! Notifications and the per-member mute that silences them.

use parlor_core::{ConversationId, MessageId, NewNotification, Notification, NotificationKind, Timestamp, UserId};
use parlor_store::{NotificationFilter, NotificationsToRead, StoreError, StoreResult};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::rows::{self, corrupt, db};

/// How much of a message a notification previews.
const PREVIEW_CHARS: usize = 140;

const COLUMNS: &str = "n.id, n.user_id, n.kind, n.conversation_id, n.message_id, n.actor_id, a.display_name, \
     n.connection_id, n.count, m.content, m.deleted_at, n.created_at, n.updated_at, n.read_at \
     FROM notifications n LEFT JOIN users a ON a.id = n.actor_id LEFT JOIN messages m ON m.id = n.message_id";

pub(crate) async fn set_muted(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
    muted: bool,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE members SET muted = $1 WHERE conversation_id = $2 AND user_id = $3 AND active = 1")
        .bind(i64::from(muted))
        .bind(id.0)
        .bind(user.0)
        .execute(conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(crate) async fn muted_members(conn: &mut PgConnection, id: ConversationId) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query("SELECT user_id FROM members WHERE conversation_id = $1 AND active = 1 AND muted = 1")
        .bind(id.0)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

pub(crate) async fn add(conn: &mut PgConnection, new: &[NewNotification]) -> StoreResult<Vec<Notification>> {
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
            let folded = sqlx::query(
                "DELETE FROM notifications WHERE user_id = $1 AND conversation_id = $2 AND kind = 'message' \
                 AND read_at IS NULL RETURNING count, created_at, message_id, actor_id",
            )
            .bind(n.user_id.0)
            .bind(n.conversation_id.map(|c| c.0))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            if let Some(row) = folded {
                count += rows::get::<i64, _>(&row, 0)?;
                created_at = rows::get(&row, 1)?;
                let folded_message: Option<i64> = rows::get(&row, 2)?;
                if folded_message > message_id {
                    (message_id, actor_id) = (folded_message, rows::get(&row, 3)?);
                }
            }
        }
        let row = sqlx::query(
            "INSERT INTO notifications (user_id, kind, conversation_id, message_id, actor_id, connection_id, \
             count, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(n.user_id.0)
        .bind(n.kind.as_str())
        .bind(n.conversation_id.map(|c| c.0))
        .bind(message_id)
        .bind(actor_id)
        .bind(n.connection_id)
        .bind(count)
        .bind(created_at)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
        let id: i64 = rows::get(&row, 0)?;
        let sql = format!("SELECT {COLUMNS} WHERE n.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&mut *conn).await.map_err(db)?;
        stored.push(notification(&row)?);
    }
    Ok(stored)
}

pub(crate) async fn list(
    conn: &mut PgConnection,
    user: UserId,
    filter: &NotificationFilter,
) -> StoreResult<Vec<Notification>> {
    let sql = format!(
        "SELECT {COLUMNS} WHERE n.user_id = $1 AND n.id < $2 AND ($3 = 0 OR n.read_at IS NULL) ORDER BY n.id DESC LIMIT $4"
    );
    let found = sqlx::query(&sql)
        .bind(user.0)
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(i64::from(filter.unread_only))
        .bind(i64::from(filter.limit))
        .fetch_all(conn)
        .await
        .map_err(db)?;
    found.iter().map(notification).collect()
}

pub(crate) async fn unread_count(conn: &mut PgConnection, user: UserId) -> StoreResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user.0)
        .fetch_one(conn)
        .await
        .map_err(db)?;
    rows::get(&row, 0)
}

pub(crate) async fn has_unread(conn: &mut PgConnection, user: UserId, id: ConversationId) -> StoreResult<bool> {
    let row = sqlx::query(
        "SELECT 1 FROM notifications WHERE user_id = $1 AND conversation_id = $2 AND read_at IS NULL LIMIT 1",
    )
    .bind(user.0)
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    Ok(row.is_some())
}

pub(crate) async fn mark_read(conn: &mut PgConnection, user: UserId, which: NotificationsToRead) -> StoreResult<u64> {
    let now = Timestamp::now().as_millis();
    let (filter, target) = match which {
        NotificationsToRead::One(id) => (" AND id = $3", Some(id)),
        NotificationsToRead::All => ("", None),
        NotificationsToRead::Conversation(c) => (" AND conversation_id = $3", Some(c.0)),
    };
    let sql = format!("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL{filter}");
    let mut query = sqlx::query(&sql).bind(now).bind(user.0);
    if let Some(target) = target {
        query = query.bind(target);
    }
    Ok(query.execute(conn).await.map_err(db)?.rows_affected())
}

fn notification(row: &PgRow) -> StoreResult<Notification> {
    let kind: String = rows::get(row, 2)?;
    let content: Option<String> = rows::get(row, 9)?;
    let deleted: Option<i64> = rows::get(row, 10)?;
    Ok(Notification {
        id: rows::get(row, 0)?,
        user_id: UserId(rows::get(row, 1)?),
        kind: NotificationKind::parse(&kind).ok_or_else(|| corrupt(format!("notification kind {kind}")))?,
        conversation_id: rows::get::<Option<i64>, _>(row, 3)?.map(ConversationId),
        message_id: rows::get::<Option<i64>, _>(row, 4)?.map(MessageId),
        actor_id: rows::get::<Option<i64>, _>(row, 5)?.map(UserId),
        actor_name: rows::get(row, 6)?,
        connection_id: rows::get(row, 7)?,
        count: rows::get(row, 8)?,
        preview: match (content, deleted) {
            (Some(text), None) => text.chars().take(PREVIEW_CHARS).collect(),
            _ => String::new(),
        },
        created_at: Timestamp::from_millis(rows::get(row, 11)?),
        updated_at: Timestamp::from_millis(rows::get(row, 12)?),
        read: rows::get::<Option<i64>, _>(row, 13)?.is_some(),
    })
}
