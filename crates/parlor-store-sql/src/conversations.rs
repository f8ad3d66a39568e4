//! Conversations, their members, and the overviews a conversation list shows.

use std::collections::HashMap;

use parlor_core::{
    Conversation, ConversationId, ConversationOverview, DirectPair, Member, Message, MessageId, Role, Seq, Timestamp,
    UserId,
};
use parlor_store::{ConversationFilter, StoreResult};

use crate::backend::Backend;
use crate::rows::{self, CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOINS, USER_COLUMNS};
use crate::statement::{Conn, Row, sql};

pub async fn get_or_create_direct<B: Backend>(
    conn: &mut Conn<'_, B>,
    pair: DirectPair,
) -> StoreResult<(ConversationId, bool)> {
    let key = pair.key();
    let existing = sql("SELECT id FROM conversations WHERE direct_key = $1").bind(&key).fetch_optional(conn).await?;
    if let Some(row) = existing {
        return Ok((ConversationId(row.get(0)?), false));
    }
    let now = Timestamp::now().as_millis();
    // Another PostgreSQL node may create the pair's conversation at the same moment: the loser
    // waits for the winner's commit and then finds its row.
    let inserted = sql(
        "INSERT INTO conversations (kind, direct_key, created_at, last_activity_at) VALUES ('direct', $1, $2, $3) \
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(&key)
    .bind(now)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    let Some(row) = inserted else {
        let row = sql("SELECT id FROM conversations WHERE direct_key = $1").bind(&key).fetch_one(conn).await?;
        return Ok((ConversationId(row.get(0)?), false));
    };
    let id: i64 = row.get(0)?;
    for user in pair.users() {
        insert_member(conn, ConversationId(id), user, Role::Member, now).await?;
    }
    Ok((ConversationId(id), true))
}

/// Adds a member row; the caller has checked the user exists.
pub async fn insert_member<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
    role: Role,
    now: i64,
) -> StoreResult<()> {
    sql("INSERT INTO members (conversation_id, user_id, joined_at, role) VALUES ($1, $2, $3, $4)")
        .bind(id.0)
        .bind(user.0)
        .bind(now)
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn member_ids<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId) -> StoreResult<Vec<UserId>> {
    let found = sql("SELECT user_id FROM members WHERE conversation_id = $1 AND active = 1 ORDER BY user_id")
        .bind(id.0)
        .fetch_all(conn)
        .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

pub async fn partners<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<UserId>> {
    let found = sql("SELECT DISTINCT other.user_id FROM members mine JOIN members other \
         ON other.conversation_id = mine.conversation_id AND other.active = 1 AND other.user_id != mine.user_id \
         WHERE mine.user_id = $1 AND mine.active = 1")
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

/// `EXISTS ... OFFSET max_members` finds a room too big after reading at most `max_members + 1`
/// of its members, so a 10,000-member room costs no more to rule out than a small one to count.
pub async fn presence_audience<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    max_members: u32,
) -> StoreResult<Vec<UserId>> {
    let found = sql("SELECT DISTINCT other.user_id FROM members mine JOIN members other \
         ON other.conversation_id = mine.conversation_id AND other.active = 1 AND other.user_id != mine.user_id \
         WHERE mine.user_id = $1 AND mine.active = 1 \
         AND NOT EXISTS (SELECT 1 FROM members x WHERE x.conversation_id = mine.conversation_id AND x.active = 1 \
                         LIMIT 1 OFFSET $2) \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $1 AND b.blocked_id = other.user_id) \
                         OR (b.blocker_id = other.user_id AND b.blocked_id = $1))")
    .bind(user.0)
    .bind(max_members)
    .fetch_all(conn)
    .await?;
    found.iter().map(|r| r.get(0).map(UserId)).collect()
}

pub async fn share_conversation<B: Backend>(conn: &mut Conn<'_, B>, a: UserId, b: UserId) -> StoreResult<bool> {
    let found = sql("SELECT 1 FROM members mine JOIN members other ON other.conversation_id = mine.conversation_id \
         WHERE mine.user_id = $1 AND mine.active = 1 AND other.user_id = $2 AND other.active = 1 LIMIT 1")
    .bind(a.0)
    .bind(b.0)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn overview<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<ConversationOverview>> {
    let text = format!(
        "SELECT {CONVERSATION_COLUMNS}, {MEMBERSHIP_COLUMNS}, mb.last_read_seq AS mb_last_read_seq FROM conversations c \
         JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $1 WHERE c.id = $2"
    );
    let found = sql(text).bind(user.0).bind(id.0).fetch_all(conn).await?;
    Ok(assemble(conn, &found).await?.pop())
}

pub async fn list_overviews<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    filter: &ConversationFilter,
) -> StoreResult<Vec<ConversationOverview>> {
    let mut q = sql(format!(
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
    q.push(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ").push_bind(filter.limit);
    let found = q.fetch_all(conn).await?;
    assemble(conn, &found).await
}

/// The conversation's record and current members, for no viewer in particular (exports).
pub async fn with_members<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
) -> StoreResult<Option<(Conversation, Vec<Member>)>> {
    let text = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1");
    let Some(row) = sql(text).bind(id.0).fetch_optional(conn).await? else {
        return Ok(None);
    };
    let conversation = rows::conversation(&row)?;
    let members = current_members(conn, &[id.0]).await?.remove(&id.0).unwrap_or_default();
    Ok(Some((conversation, members)))
}

/// Current members of each conversation in `ids`, in the order they joined, in one query.
async fn current_members<B: Backend>(conn: &mut Conn<'_, B>, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<Member>>> {
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    let mut q = sql(format!(
        "SELECT mb.conversation_id AS mb_conversation_id, mb.role AS mb_role, mb.last_read_seq AS mb_read, \
         mb.delivered_seq AS mb_delivered, {USER_COLUMNS} FROM members mb \
         JOIN users u ON u.id = mb.user_id WHERE mb.active = 1 AND mb.conversation_id IN ("
    ));
    q.push_list(ids.iter().copied()).push(") ORDER BY mb.joined_at, u.id");
    for row in q.fetch_all(conn).await? {
        let role: String = row.get("mb_role")?;
        members.entry(row.get("mb_conversation_id")?).or_default().push(Member {
            user: rows::user(&row)?,
            role: Role::parse(&role).map_err(|e| rows::corrupt(e.to_string()))?,
            last_read_seq: Seq(row.get("mb_read")?),
            delivered_seq: Seq(row.get("mb_delivered")?),
        });
    }
    Ok(members)
}

/// Adds members and last messages to conversation rows with three queries in all (members,
/// last messages, former members' last visible messages), not a query per row.
pub async fn assemble<B: Backend>(conn: &mut Conn<'_, B>, found: &[Row<B>]) -> StoreResult<Vec<ConversationOverview>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(found.len());
    let mut last_message_ids = Vec::new();
    for row in found {
        ids.push(row.get::<i64>("c_id")?);
        if let Some(m) = row.get::<Option<i64>>("c_last_message_id")? {
            last_message_ids.push(m);
        }
    }

    let mut members = current_members(conn, &ids).await?;

    let mut last: HashMap<MessageId, Message> = HashMap::new();
    if !last_message_ids.is_empty() {
        let mut q = sql(format!("SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} WHERE m.id IN ("));
        q.push_list(last_message_ids).push(")");
        for row in q.fetch_all(conn).await? {
            let (message, _) = rows::message(&row)?;
            last.insert(message.id, message);
        }
    }
    // A former member's preview is the last message they may still see.
    let mut former_last: HashMap<i64, Message> = HashMap::new();
    let mut cut_off = Vec::new();
    for row in found {
        if let Some(seq) = row.get::<Option<i64>>("mb_visible_message_seq")? {
            cut_off.push((row.get::<i64>("c_id")?, seq));
        }
    }
    if !cut_off.is_empty() {
        let mut q = sql(format!("SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} WHERE "));
        for (i, (id, seq)) in cut_off.into_iter().enumerate() {
            q.push(if i == 0 { "(m.conversation_id = " } else { " OR (m.conversation_id = " });
            q.push_bind(id).push(" AND m.seq = ").push_bind(seq).push(")");
        }
        for row in q.fetch_all(conn).await? {
            let (message, _) = rows::message(&row)?;
            former_last.insert(message.conversation_id.0, message);
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
                row.get::<Option<i64>>("c_last_message_id")?.and_then(|m| last.get(&MessageId(m)).cloned())
            };
            Ok(ConversationOverview {
                members: members.remove(&conversation.id.0).unwrap_or_default(),
                last_message,
                last_read_seq: Seq(row.get("mb_last_read_seq")?),
                membership,
                conversation,
            })
        })
        .collect()
}
