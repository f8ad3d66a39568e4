//! Rooms: creating them, linking conversations to a context, membership changes with their
//! system messages, and conversation settings (title, avatar, archive).

use parlor_core::{
    Context, ConversationEvent, ConversationId, EventKind, Membership, Role, SystemEvent, Timestamp, UserId,
};
use parlor_store::{Appended, ConversationPatch, MemberChange, NewRoom, StoreError, StoreResult};

use crate::backend::Backend;
use crate::conversations::insert_member;
use crate::rows::{self, MEMBERSHIP_COLUMNS};
use crate::statement::{Conn, sql};
use crate::{events, messages, users};

pub async fn membership<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<Membership>> {
    let text = format!("SELECT {MEMBERSHIP_COLUMNS} FROM members mb WHERE mb.conversation_id = $1 AND mb.user_id = $2");
    let row = sql(text).bind(id.0).bind(user.0).fetch_optional(conn).await?;
    row.as_ref().map(rows::membership).transpose()
}

pub async fn create<B: Backend>(conn: &mut Conn<'_, B>, room: NewRoom) -> StoreResult<(ConversationId, Appended)> {
    let now = Timestamp::now().as_millis();
    let context = room.context.as_ref();
    let row = sql(
        "INSERT INTO conversations (kind, title, avatar_url, context_type, context_id, context_title, created_at, \
         last_activity_at) VALUES ('room', $1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(room.title.as_str())
    .bind(room.avatar.as_ref().map(|a| a.as_str()))
    .bind(context.map(|c| c.kind.as_str()))
    .bind(context.map(|c| c.external_id.as_str()))
    .bind(context.and_then(|c| c.title.as_deref()))
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await?;
    let id = ConversationId(row.get(0)?);
    let others: Vec<UserId> = unique(room.members.iter().copied().filter(|u| *u != room.creator));
    insert_members(conn, id, room.creator, &others, now).await?;
    let event = SystemEvent { action: "room_created".into(), actor_id: room.creator, user_ids: others, role: None };
    let text = format!("{} created the room", name(conn, room.creator).await?);
    let appended = messages::insert_system(conn, id, event, &text).await?;
    Ok((id, appended))
}

/// Adds the owner and members of a new room, checking every user exists.
async fn insert_members<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    owner: UserId,
    others: &[UserId],
    now: i64,
) -> StoreResult<()> {
    let everyone = std::iter::once((owner, Role::Owner)).chain(others.iter().map(|u| (*u, Role::Member)));
    for (user, role) in everyone {
        users::ensure_exists(conn, user).await?;
        insert_member(conn, id, user, role, now).await?;
    }
    Ok(())
}

pub async fn get_or_create_by_context<B: Backend>(
    conn: &mut Conn<'_, B>,
    context: &Context,
    participants: &[UserId],
    creator: UserId,
) -> StoreResult<(ConversationId, bool)> {
    let people = unique(participants.iter().copied().chain([creator]));
    let key = format!(
        "{}\u{1f}{}\u{1f}{}",
        context.kind,
        context.external_id,
        people.iter().map(|u| u.0.to_string()).collect::<Vec<_>>().join(",")
    );
    let existing = sql("SELECT id FROM conversations WHERE context_key = $1").bind(&key).fetch_optional(conn).await?;
    if let Some(row) = existing {
        return Ok((ConversationId(row.get(0)?), false));
    }
    let now = Timestamp::now().as_millis();
    let (kind, title) = if people.len() == 2 {
        ("direct", None)
    } else {
        ("room", Some(context.title.clone().unwrap_or_else(|| format!("{} {}", context.kind, context.external_id))))
    };
    let row = sql(
        "INSERT INTO conversations (kind, title, context_type, context_id, context_title, context_key, created_at, \
         last_activity_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (context_key) WHERE context_key IS NOT NULL DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(title)
    .bind(&context.kind)
    .bind(&context.external_id)
    .bind(context.title.as_deref())
    .bind(&key)
    .bind(now)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    // Created by another PostgreSQL node meanwhile: theirs is the one.
    let Some(row) = row else {
        let row = sql("SELECT id FROM conversations WHERE context_key = $1").bind(&key).fetch_one(conn).await?;
        return Ok((ConversationId(row.get(0)?), false));
    };
    let id = ConversationId(row.get(0)?);
    if kind == "direct" {
        for user in &people {
            users::ensure_exists(conn, *user).await?;
            insert_member(conn, id, *user, Role::Member, now).await?;
        }
    } else {
        let others: Vec<UserId> = people.iter().copied().filter(|u| *u != creator).collect();
        insert_members(conn, id, creator, &others, now).await?;
        let event = SystemEvent { action: "room_created".into(), actor_id: creator, user_ids: others, role: None };
        let text = format!("{} created the room", name(conn, creator).await?);
        messages::insert_system(conn, id, event, &text).await?;
    }
    Ok((id, true))
}

pub async fn change_members<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    actor: UserId,
    change: MemberChange,
) -> StoreResult<Appended> {
    // First, so rules like "the last owner" hold against other nodes' changes.
    B::lock_conversations(conn, &[id.0]).await?;
    let kind = sql("SELECT kind FROM conversations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if kind.get::<String>(0)? != "room" {
        return Err(StoreError::Rule("not_a_room"));
    }
    let actor_name = name(conn, actor).await?;
    match change {
        MemberChange::Add(users) => {
            let now = Timestamp::now().as_millis();
            let mut added = Vec::new();
            for user in unique(users) {
                users::ensure_exists(conn, user).await?;
                let current = membership(conn, id, user).await?;
                match current {
                    Some(m) if m.active => continue,
                    Some(_) => {
                        sql("UPDATE members SET active = 1, role = 'member', visible_message_seq = NULL, \
                             visible_event_seq = NULL, joined_at = $1 WHERE conversation_id = $2 AND user_id = $3")
                        .bind(now)
                        .bind(id.0)
                        .bind(user.0)
                        .execute(conn)
                        .await?;
                    }
                    None => insert_member(conn, id, user, Role::Member, now).await?,
                }
                added.push(user);
            }
            if added.is_empty() {
                return Err(StoreError::Rule("already_members"));
            }
            let text = format!("{actor_name} added {}", names(conn, &added).await?);
            let event = SystemEvent { action: "members_added".into(), actor_id: actor, user_ids: added, role: None };
            messages::insert_system(conn, id, event, &text).await
        }
        MemberChange::Remove(user) | MemberChange::SetRole(user, _) if !is_active(conn, id, user).await? => {
            Err(StoreError::NotFound)
        }
        MemberChange::Remove(user) => {
            let text = format!("{actor_name} removed {}", name(conn, user).await?);
            let event =
                SystemEvent { action: "member_removed".into(), actor_id: actor, user_ids: vec![user], role: None };
            depart(conn, id, user, event, &text).await
        }
        MemberChange::Leave => {
            let event =
                SystemEvent { action: "member_left".into(), actor_id: actor, user_ids: vec![actor], role: None };
            depart(conn, id, actor, event, &format!("{actor_name} left")).await
        }
        MemberChange::SetRole(user, role) => {
            let current = membership(conn, id, user).await?.ok_or(StoreError::NotFound)?;
            if current.role == Role::Owner && role != Role::Owner && owners(conn, id).await? <= 1 {
                return Err(StoreError::Rule("last_owner"));
            }
            sql("UPDATE members SET role = $1 WHERE conversation_id = $2 AND user_id = $3")
                .bind(role.as_str())
                .bind(id.0)
                .bind(user.0)
                .execute(conn)
                .await?;
            let text = format!("{actor_name} made {} {}", name(conn, user).await?, article(role));
            let event = SystemEvent {
                action: "role_changed".into(),
                actor_id: actor,
                user_ids: vec![user],
                role: Some(role.as_str().to_owned()),
            };
            messages::insert_system(conn, id, event, &text).await
        }
    }
}

/// Records a departure, then ends the membership just after that message, so the member keeps
/// everything up to and including the news of their leaving.
async fn depart<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
    event: SystemEvent,
    text: &str,
) -> StoreResult<Appended> {
    let current = membership(conn, id, user).await?.ok_or(StoreError::NotFound)?;
    if current.role == Role::Owner && owners(conn, id).await? <= 1 {
        return Err(StoreError::Rule("last_owner"));
    }
    let appended = messages::insert_system(conn, id, event, text).await?;
    let message_seq = appended.message().map(|m| m.seq.0).unwrap_or_default();
    sql("UPDATE members SET active = 0, visible_message_seq = $1, visible_event_seq = $2 \
         WHERE conversation_id = $3 AND user_id = $4")
    .bind(message_seq)
    .bind(appended.event.seq.0)
    .bind(id.0)
    .bind(user.0)
    .execute(conn)
    .await?;
    Ok(appended)
}

pub async fn update<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    actor: UserId,
    patch: &ConversationPatch,
) -> StoreResult<Option<(ConversationEvent, Appended)>> {
    B::lock_conversations(conn, &[id.0]).await?;
    let row = sql("SELECT title, avatar_url, archived_at FROM conversations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (old_title, old_avatar): (Option<String>, Option<String>) = (row.get(0)?, row.get(1)?);
    let was_archived = row.get::<Option<i64>>(2)?.is_some();

    let title = patch.title.as_ref().map(|t| t.as_str().to_owned()).filter(|t| Some(t) != old_title.as_ref());
    let avatar = patch.avatar.as_ref().map(|a| a.as_ref().map(|u| u.as_str().to_owned())).filter(|a| *a != old_avatar);
    let archived = patch.archived.filter(|a| *a != was_archived);
    let actor_name = name(conn, actor).await?;
    let (action, text) = match (&title, &avatar, archived) {
        (None, None, None) => return Ok(None),
        (_, _, Some(true)) => ("archived", format!("{actor_name} archived the conversation")),
        (_, _, Some(false)) => ("unarchived", format!("{actor_name} unarchived the conversation")),
        (Some(t), None, None) => ("room_renamed", format!("{actor_name} renamed the room to {t}")),
        (None, Some(_), None) => ("avatar_changed", format!("{actor_name} changed the room's picture")),
        (Some(_), Some(_), None) => ("room_updated", format!("{actor_name} updated the room")),
    };

    let now = Timestamp::now();
    if let Some(t) = &title {
        sql("UPDATE conversations SET title = $1 WHERE id = $2").bind(t).bind(id.0).execute(conn).await?;
    }
    if let Some(a) = &avatar {
        sql("UPDATE conversations SET avatar_url = $1 WHERE id = $2")
            .bind(a.as_deref())
            .bind(id.0)
            .execute(conn)
            .await?;
    }
    if let Some(a) = archived {
        sql("UPDATE conversations SET archived_at = $1 WHERE id = $2")
            .bind(a.then_some(now.as_millis()))
            .bind(id.0)
            .execute(conn)
            .await?;
    }
    // What they were before, too: a former member sees the room as it was (`former.rs`).
    let before = serde_json::json!({ "title": old_title, "avatar": old_avatar, "archived": was_archived });
    let (title, avatar, archived) =
        (title.or(old_title), avatar.unwrap_or(old_avatar), archived.unwrap_or(was_archived));
    let data =
        serde_json::json!({ "title": title, "avatar": avatar, "archived": archived, "before": before }).to_string();
    let seq = events::log(conn, id.0, "conversation_updated", None, Some(actor.0), Some(data), now).await?;
    let updated = ConversationEvent {
        conversation_id: id,
        seq,
        at: now,
        kind: EventKind::ConversationUpdated { title, avatar, archived },
    };
    let event = SystemEvent { action: action.into(), actor_id: actor, user_ids: Vec::new(), role: None };
    let appended = messages::insert_system(conn, id, event, &text).await?;
    Ok(Some((updated, appended)))
}

async fn is_active<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId, user: UserId) -> StoreResult<bool> {
    Ok(membership(conn, id, user).await?.is_some_and(|m| m.active))
}

async fn owners<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId) -> StoreResult<i64> {
    let row = sql("SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND active = 1 AND role = 'owner'")
        .bind(id.0)
        .fetch_one(conn)
        .await?;
    row.get(0)
}

async fn name<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<String> {
    let row = sql("SELECT display_name FROM users WHERE id = $1")
        .bind(user.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    row.get(0)
}

async fn names<B: Backend>(conn: &mut Conn<'_, B>, users: &[UserId]) -> StoreResult<String> {
    let mut out = Vec::with_capacity(users.len());
    for user in users {
        out.push(name(conn, *user).await?);
    }
    Ok(out.join(", "))
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Admin => "an admin",
        Role::Member => "a member",
    }
}

fn unique(users: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
    let mut users: Vec<UserId> = users.into_iter().collect();
    users.sort_unstable();
    users.dedup();
    users
}
