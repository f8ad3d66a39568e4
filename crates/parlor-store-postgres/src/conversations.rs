//! Conversations, their members, and the overviews a conversation list shows.

use std::collections::HashMap;

use parlor_core::{
    Conversation, ConversationId, ConversationOverview, DirectPair, Member, Message, MessageId, Role, Seq, Timestamp,
    UserId,
};
use parlor_store::ConversationFilter;
use parlor_store::StoreResult;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::rows::{self, CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOINS, USER_COLUMNS, db};

pub(crate) async fn get_or_create_direct(
    conn: &mut PgConnection,
    pair: DirectPair,
) -> StoreResult<(ConversationId, bool)> {
    let key = pair.key();
    let existing = sqlx::query("SELECT id FROM conversations WHERE direct_key = $1")
        .bind(&key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if let Some(row) = existing {
        return Ok((ConversationId(rows::get(&row, 0)?), false));
    }
    let now = Timestamp::now().as_millis();
    // Another node may create the pair's conversation at the same moment: the loser waits for
    // the winner's commit and then finds its row.
    let inserted = sqlx::query(
        "INSERT INTO conversations (kind, direct_key, created_at, last_activity_at) VALUES ('direct', $1, $2, $3) \
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(now)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let Some(row) = inserted else {
        let row = sqlx::query("SELECT id FROM conversations WHERE direct_key = $1")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        return Ok((ConversationId(rows::get(&row, 0)?), false));
    };
    let id: i64 = rows::get(&row, 0)?;
    for user in pair.users() {
        insert_member(conn, ConversationId(id), user, Role::Member, now).await?;
    }
    Ok((ConversationId(id), true))
}

/// Adds a member row; the caller has checked the user exists.
pub(crate) async fn insert_member(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
    role: Role,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO members (conversation_id, user_id, joined_at, role) VALUES ($1, $2, $3, $4)")
        .bind(id.0)
        .bind(user.0)
        .bind(now)
        .bind(role.as_str())
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn is_member(conn: &mut PgConnection, id: ConversationId, user: UserId) -> StoreResult<bool> {
    let row = sqlx::query("SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2 AND active = 1")
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    Ok(row.is_some())
}

pub(crate) async fn member_ids(conn: &mut PgConnection, id: ConversationId) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query("SELECT user_id FROM members WHERE conversation_id = $1 AND active = 1 ORDER BY user_id")
        .bind(id.0)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

pub(crate) async fn contacts(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query(
        "SELECT DISTINCT other.user_id FROM members mine JOIN members other \
         ON other.conversation_id = mine.conversation_id AND other.active = 1 AND other.user_id != mine.user_id \
         WHERE mine.user_id = $1 AND mine.active = 1",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

/// `EXISTS ... OFFSET max_members` finds a room too big after reading at most `max_members + 1`
/// of its members, so a 10,000-member room costs no more to rule out than a small one to count.
pub(crate) async fn presence_audience(
    conn: &mut PgConnection,
    user: UserId,
    max_members: u32,
) -> StoreResult<Vec<UserId>> {
    let found = sqlx::query(
        "SELECT DISTINCT other.user_id FROM members mine JOIN members other \
         ON other.conversation_id = mine.conversation_id AND other.active = 1 AND other.user_id != mine.user_id \
         WHERE mine.user_id = $1 AND mine.active = 1 \
         AND NOT EXISTS (SELECT 1 FROM members x WHERE x.conversation_id = mine.conversation_id AND x.active = 1 \
                         LIMIT 1 OFFSET $2) \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $1 AND b.blocked_id = other.user_id) \
                         OR (b.blocker_id = other.user_id AND b.blocked_id = $1))",
    )
    .bind(user.0)
    .bind(i64::from(max_members))
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found.iter().map(|r| rows::get(r, 0).map(UserId)).collect()
}

pub(crate) async fn share_conversation(conn: &mut PgConnection, a: UserId, b: UserId) -> StoreResult<bool> {
    let found = sqlx::query(
        "SELECT 1 FROM members mine JOIN members other ON other.conversation_id = mine.conversation_id \
         WHERE mine.user_id = $1 AND mine.active = 1 AND other.user_id = $2 AND other.active = 1 LIMIT 1",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(conn)
    .await
    .map_err(db)?;
    Ok(found.is_some())
}

pub(crate) async fn overview(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<ConversationOverview>> {
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS}, {MEMBERSHIP_COLUMNS}, mb.last_read_seq AS mb_last_read_seq FROM conversations c \
         JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $1 WHERE c.id = $2"
    );
    let found = sqlx::query(&sql).bind(user.0).bind(id.0).fetch_all(&mut *conn).await.map_err(db)?;
    Ok(assemble(conn, &found).await?.pop())
}

pub(crate) async fn list_overviews(
    conn: &mut PgConnection,
    user: UserId,
    filter: &ConversationFilter,
) -> StoreResult<Vec<ConversationOverview>> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CONVERSATION_COLUMNS}, {MEMBERSHIP_COLUMNS}, mb.last_read_seq AS mb_last_read_seq FROM members mb \
         JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = "
    ));
    q.push_bind(user.0);
    if let Some(kind) = &filter.context_type {
        q.push(" AND c.context_type = ").push_bind(kind.clone());
    }
    if let Some(id) = &filter.context_id {
        q.push(" AND c.context_id = ").push_bind(id.clone());
    }
    if let Some(after) = filter.after {
        let at = after.last_activity_at.as_millis();
        q.push(" AND (c.last_activity_at < ").push_bind(at);
        q.push(" OR (c.last_activity_at = ").push_bind(at).push(" AND c.id < ").push_bind(after.id.0).push("))");
    }
    q.push(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ").push_bind(i64::from(filter.limit));
    let found = q.build().fetch_all(&mut *conn).await.map_err(db)?;
    assemble(conn, &found).await
}

/// The conversation's record and current members, for no viewer in particular (exports).
pub(crate) async fn with_members(
    conn: &mut PgConnection,
    id: ConversationId,
) -> StoreResult<Option<(Conversation, Vec<Member>)>> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1");
    let Some(row) = sqlx::query(&sql).bind(id.0).fetch_optional(&mut *conn).await.map_err(db)? else {
        return Ok(None);
    };
    let conversation = rows::conversation(&row)?;
    let members = current_members(conn, &[id.0]).await?.remove(&id.0).unwrap_or_default();
    Ok(Some((conversation, members)))
}

/// Current members of each conversation in `ids`, in the order they joined, in one query.
async fn current_members(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<Member>>> {
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT mb.conversation_id AS mb_conversation_id, mb.role AS mb_role, mb.last_read_seq AS mb_read, \
         mb.delivered_seq AS mb_delivered, {USER_COLUMNS} FROM members mb \
         JOIN users u ON u.id = mb.user_id WHERE mb.active = 1 AND mb.conversation_id IN ("
    ));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY mb.joined_at, u.id");
    for row in q.build().fetch_all(&mut *conn).await.map_err(db)? {
        let role: String = rows::get(&row, "mb_role")?;
        members.entry(rows::get(&row, "mb_conversation_id")?).or_default().push(Member {
            user: rows::user(&row)?,
            role: Role::parse(&role).map_err(|e| rows::corrupt(e.to_string()))?,
            last_read_seq: Seq(rows::get(&row, "mb_read")?),
            delivered_seq: Seq(rows::get(&row, "mb_delivered")?),
        });
    }
    Ok(members)
}

/// Adds members and last messages to conversation rows with two queries in all, not two per row.
pub(crate) async fn assemble(
    conn: &mut PgConnection,
    found: &[sqlx::postgres::PgRow],
) -> StoreResult<Vec<ConversationOverview>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(found.len());
    let mut last_message_ids = Vec::new();
    for row in found {
        ids.push(rows::get::<i64, _>(row, "c_id")?);
        if let Some(m) = rows::get::<Option<i64>, _>(row, "c_last_message_id")? {
            last_message_ids.push(m);
        }
    }

    let mut members = current_members(conn, &ids).await?;

    let mut last: HashMap<MessageId, Message> = HashMap::new();
    let mut former_last: HashMap<i64, Message> = HashMap::new();
    if !last_message_ids.is_empty() {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} WHERE m.id IN ("));
        let mut list = q.separated(", ");
        for id in &last_message_ids {
            list.push_bind(*id);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *conn).await.map_err(db)? {
            let (message, _) = rows::message(&row)?;
            last.insert(message.id, message);
        }
    }
    // A former member's preview is the last message they may still see.
    for row in found {
        if let Some(seq) = rows::get::<Option<i64>, _>(row, "mb_visible_message_seq")? {
            let id: i64 = rows::get(row, "c_id")?;
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} WHERE m.conversation_id = $1 AND m.seq = $2"
            );
            if let Some(r) = sqlx::query(&sql).bind(id).bind(seq).fetch_optional(&mut *conn).await.map_err(db)? {
                former_last.insert(id, rows::message(&r)?.0);
            }
        }
    }

    found
        .iter()
        .map(|row| {
            let conversation = rows::conversation(row)?;
            let membership = rows::membership(row)?;
            let last_message = if membership.visible_until.is_some() {
                former_last.remove(&conversation.id.0)
            } else {
                rows::get::<Option<i64>, _>(row, "c_last_message_id")?.and_then(|m| last.get(&MessageId(m)).cloned())
            };
            Ok(ConversationOverview {
                members: members.remove(&conversation.id.0).unwrap_or_default(),
                last_message,
                last_read_seq: Seq(rows::get(row, "mb_last_read_seq")?),
                membership,
                conversation,
            })
        })
        .collect()
}
