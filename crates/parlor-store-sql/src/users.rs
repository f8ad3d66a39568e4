//! Users, credentials and refresh tokens.

use parlor_core::{AvatarUrl, DisplayName, ExternalId, NewUser, ProfileUpdate, SessionId, Timestamp, User, UserId};
use parlor_store::{Rotation, StoreError, StoreResult, UserFlags};

use crate::backend::Backend;
use crate::rows::{self, USER_COLUMNS};
use crate::statement::{Conn, sql};

pub async fn create<B: Backend>(conn: &mut Conn<'_, B>, new: NewUser) -> StoreResult<User> {
    let id: i64 = sql(
        "INSERT INTO users (username, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(new.username.as_str())
    .bind(new.name.as_str())
    .bind(&new.password_hash)
    .bind(Timestamp::now().as_millis())
    .conflict("username")
    .fetch_one(conn)
    .await?
    .get(0)?;
    by_id(conn, UserId(id)).await?.ok_or(StoreError::NotFound)
}

pub async fn by_id<B: Backend>(conn: &mut Conn<'_, B>, id: UserId) -> StoreResult<Option<User>> {
    // The system user (id 0) is nobody the API can look up.
    let text = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.id != 0");
    let row = sql(text).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(rows::user).transpose()
}

pub async fn by_external_id<B: Backend>(conn: &mut Conn<'_, B>, id: &ExternalId) -> StoreResult<Option<User>> {
    let text = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.external_id = $1");
    let row = sql(text).bind(id.as_str()).fetch_optional(conn).await?;
    row.as_ref().map(rows::user).transpose()
}

/// `NotFound` unless the user exists; the system user (id 0) counts as absent: it joins and
/// connects to nothing.
pub async fn ensure_exists<B: Backend>(conn: &mut Conn<'_, B>, id: UserId) -> StoreResult<()> {
    let found = sql("SELECT 1 FROM users WHERE id = $1 AND id != 0").bind(id.0).fetch_optional(conn).await?;
    found.map(drop).ok_or(StoreError::NotFound)
}

pub async fn credentials<B: Backend>(conn: &mut Conn<'_, B>, username: &str) -> StoreResult<Option<(User, String)>> {
    let text = format!(
        "SELECT {USER_COLUMNS}, u.password_hash AS u_hash FROM users u \
         WHERE {} = {} AND u.password_hash IS NOT NULL",
        B::username_key("u.username"),
        B::username_key("$1")
    );
    let row = sql(text).bind(username).fetch_optional(conn).await?;
    match row {
        Some(row) => Ok(Some((rows::user(&row)?, row.get("u_hash")?))),
        None => Ok(None),
    }
}

pub async fn upsert_external<B: Backend>(
    conn: &mut Conn<'_, B>,
    external_id: &ExternalId,
    name: Option<&DisplayName>,
    avatar: Option<&AvatarUrl>,
) -> StoreResult<User> {
    let text = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.external_id = $1");
    let existing = sql(text).bind(external_id.as_str()).fetch_optional(conn).await?;
    let Some(row) = existing else {
        let fallback = format!("User {}", external_id.as_str());
        let display = name.map_or(fallback.as_str(), DisplayName::as_str);
        let id: i64 = sql(
            "INSERT INTO users (external_id, display_name, avatar_url, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(external_id.as_str())
        .bind(display)
        .bind(avatar.map(AvatarUrl::as_str))
        .bind(Timestamp::now().as_millis())
        // Another PostgreSQL node may insert them first: that backend runs the transaction
        // again, and it finds them. (SQLite's one writer checked and inserts in one step.)
        .fetch_one(conn)
        .await?
        .get(0)?;
        return by_id(conn, UserId(id)).await?.ok_or(StoreError::NotFound);
    };
    let user = rows::user(&row)?;
    let Some(update) = ProfileUpdate::from_claims(&user, name, avatar) else { return Ok(user) };
    update_profile(conn, user.id, &update).await
}

pub async fn update_profile<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: UserId,
    update: &ProfileUpdate,
) -> StoreResult<User> {
    if let Some(name) = &update.name {
        sql("UPDATE users SET display_name = $1 WHERE id = $2").bind(name.as_str()).bind(id.0).execute(conn).await?;
    }
    if let Some(avatar) = &update.avatar {
        sql("UPDATE users SET avatar_url = $1 WHERE id = $2")
            .bind(avatar.as_ref().map(AvatarUrl::as_str))
            .bind(id.0)
            .execute(conn)
            .await?;
    }
    if let Some(hide) = update.hide_last_seen {
        sql("UPDATE users SET hide_last_seen = $1 WHERE id = $2")
            .bind(i64::from(hide))
            .bind(id.0)
            .execute(conn)
            .await?;
    }
    by_id(conn, id).await?.ok_or(StoreError::NotFound)
}

pub async fn touch_last_seen<B: Backend>(conn: &mut Conn<'_, B>, seen: &[(UserId, Timestamp)]) -> StoreResult<()> {
    for (id, at) in seen {
        sql(format!("UPDATE users SET last_seen_at = {}(COALESCE(last_seen_at, 0), $1) WHERE id = $2", B::GREATEST))
            .bind(at.as_millis())
            .bind(id.0)
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn set_flags<B: Backend>(conn: &mut Conn<'_, B>, id: UserId, flags: &UserFlags) -> StoreResult<User> {
    by_id(conn, id).await?.ok_or(StoreError::NotFound)?;
    if let Some(admin) = flags.admin {
        sql("UPDATE users SET is_admin = $1 WHERE id = $2").bind(i64::from(admin)).bind(id.0).execute(conn).await?;
    }
    if let Some(disabled) = flags.disabled {
        sql("UPDATE users SET disabled_at = CASE WHEN $1 THEN COALESCE(disabled_at, $2) END WHERE id = $3")
            .bind(disabled)
            .bind(Timestamp::now().as_millis())
            .bind(id.0)
            .execute(conn)
            .await?;
        if disabled {
            // A disabled user's sessions end: refresh tokens cannot bring them back.
            sql("DELETE FROM refresh_tokens WHERE user_id = $1").bind(id.0).execute(conn).await?;
        }
    }
    by_id(conn, id).await?.ok_or(StoreError::NotFound)
}

pub async fn search<B: Backend>(
    conn: &mut Conn<'_, B>,
    query: &str,
    limit: u32,
    among: Option<UserId>,
) -> StoreResult<Vec<User>> {
    let escaped = query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    // Who `among` may find: people in a conversation with them now, their connections (pending
    // too), and the one whose username is exactly the query.
    let scope = match among {
        None => String::new(),
        Some(_) => format!(
            " AND (u.id IN (SELECT other.user_id FROM members mine JOIN members other \
                   ON other.conversation_id = mine.conversation_id AND other.active = 1 \
                   WHERE mine.user_id = $3 AND mine.active = 1) \
               OR u.id IN (SELECT addressee_id FROM connections WHERE requester_id = $3) \
               OR u.id IN (SELECT requester_id FROM connections WHERE addressee_id = $3) \
               OR {} = {})",
            B::username_key("u.username"),
            B::username_key("$4"),
        ),
    };
    // `lower` folds as SQLite's NOCASE does there (ASCII), and as PostgreSQL's `ILIKE` here.
    let text = format!(
        "SELECT {USER_COLUMNS} FROM users u \
         WHERE (u.display_name {like} $1 ESCAPE '\\' OR u.username {like} $1 ESCAPE '\\') AND u.id != 0{scope} \
         ORDER BY lower(u.display_name), u.id LIMIT $2",
        like = B::ILIKE
    );
    let mut statement = sql(text).bind(pattern).bind(limit);
    if let Some(user) = among {
        statement = statement.bind(user.0).bind(query);
    }
    let found = statement.fetch_all(conn).await?;
    found.iter().map(rows::user).collect()
}

pub async fn insert_refresh_token<B: Backend>(
    conn: &mut Conn<'_, B>,
    hash: &[u8],
    user: UserId,
    session: SessionId,
    expires_at: Timestamp,
) -> StoreResult<()> {
    sql("INSERT INTO refresh_tokens (token_hash, user_id, family, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(user.0)
        .bind(session.0)
        .bind(expires_at.as_millis())
        .conflict("refresh token")
        .execute(conn)
        .await?;
    Ok(())
}

/// Spends a live token and stores the next of its family; a spent one revokes the family. Runs
/// in one transaction: of two redeeming the same token at once, the second sees it spent.
pub async fn rotate_refresh_token<B: Backend>(
    conn: &mut Conn<'_, B>,
    hash: &[u8],
    next: &[u8],
    now: Timestamp,
    next_expires_at: Timestamp,
) -> StoreResult<Rotation> {
    let spent = sql("UPDATE refresh_tokens SET used_at = $2 \
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id, family")
    .bind(hash)
    .bind(now.as_millis())
    .fetch_optional(conn)
    .await?;
    if let Some(row) = spent {
        let (user, session) = (UserId(row.get(0)?), SessionId(row.get(1)?));
        insert_refresh_token(conn, next, user, session, next_expires_at).await?;
        return Ok(Rotation::Rotated { user, session });
    }
    let found = sql("SELECT user_id, family, used_at FROM refresh_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await?;
    let Some(row) = found else { return Ok(Rotation::Invalid) };
    let (user, session, used_at) = (UserId(row.get(0)?), SessionId(row.get(1)?), row.get::<Option<i64>>(2)?);
    if used_at.is_none() {
        // Live but expired: it can never be used again.
        sql("DELETE FROM refresh_tokens WHERE token_hash = $1").bind(hash).execute(conn).await?;
        return Ok(Rotation::Invalid);
    }
    sql("DELETE FROM refresh_tokens WHERE user_id = $1 AND family = $2")
        .bind(user.0)
        .bind(session.0)
        .execute(conn)
        .await?;
    Ok(Rotation::Reused { user, session })
}

pub async fn session_live<B: Backend>(conn: &mut Conn<'_, B>, user: UserId, session: SessionId) -> StoreResult<bool> {
    let row = sql("SELECT 1 FROM refresh_tokens WHERE user_id = $1 AND family = $2 AND used_at IS NULL")
        .bind(user.0)
        .bind(session.0)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub async fn many<B: Backend>(conn: &mut Conn<'_, B>, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sql(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id != 0 AND u.id IN ("));
    q.push_list(ids.iter().map(|id| id.0)).push(")");
    let found = q.fetch_all(conn).await?;
    found.iter().map(rows::user).collect()
}

pub async fn by_usernames<B: Backend>(conn: &mut Conn<'_, B>, names: &[String]) -> StoreResult<Vec<User>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut q =
        sql(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id != 0 AND {} IN (", B::username_key("u.username")));
    for (i, name) in names.iter().enumerate() {
        let key = B::username_key(&format!("${}", i + 1)).into_owned();
        q.push(if i == 0 { "" } else { ", " }).push(&key);
        q = q.bind(name.as_str());
    }
    q.push(")");
    let found = q.fetch_all(conn).await?;
    found.iter().map(rows::user).collect()
}

pub async fn prune_refresh_tokens<B: Backend>(conn: &mut Conn<'_, B>, before: Timestamp) -> StoreResult<u64> {
    sql("DELETE FROM refresh_tokens WHERE expires_at < $1").bind(before.as_millis()).execute(conn).await
}
