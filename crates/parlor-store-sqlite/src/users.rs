//! Users, credentials and refresh tokens.

use parlor_core::{AvatarUrl, DisplayName, ExternalId, NewUser, ProfileUpdate, Timestamp, User, UserId};
use parlor_store::{StoreError, StoreResult, UserFlags};
use sqlx::SqliteConnection;

use crate::rows::{self, USER_COLUMNS, conflict_or_backend, db};

pub(crate) async fn create(conn: &mut SqliteConnection, new: NewUser) -> StoreResult<User> {
    let id: i64 = sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(new.username.as_str())
    .bind(new.name.as_str())
    .bind(&new.password_hash)
    .bind(Timestamp::now().as_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(conflict_or_backend("username"))
    .and_then(|r| rows::get(&r, 0))?;
    by_id(conn, UserId(id)).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn by_id(conn: &mut SqliteConnection, id: UserId) -> StoreResult<Option<User>> {
    // The system user (id 0) is nobody the API can look up.
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ? AND u.id != 0");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn by_external_id(conn: &mut SqliteConnection, id: &ExternalId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.external_id = ?");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(rows::user).transpose()
}

/// `NotFound` unless the user exists; the system user (id 0) counts as absent: it joins and
/// connects to nothing.
pub(crate) async fn ensure_exists(conn: &mut SqliteConnection, id: UserId) -> StoreResult<()> {
    let found = sqlx::query("SELECT 1 FROM users WHERE id = ? AND id != 0")
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    found.map(drop).ok_or(StoreError::NotFound)
}

pub(crate) async fn credentials(conn: &mut SqliteConnection, username: &str) -> StoreResult<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash AS u_hash FROM users u \
         WHERE u.username = ? AND u.password_hash IS NOT NULL"
    );
    let row = sqlx::query(&sql).bind(username).fetch_optional(conn).await.map_err(db)?;
    match row {
        Some(row) => Ok(Some((rows::user(&row)?, rows::get(&row, "u_hash")?))),
        None => Ok(None),
    }
}

pub(crate) async fn upsert_external(
    conn: &mut SqliteConnection,
    external_id: &ExternalId,
    name: Option<&DisplayName>,
    avatar: Option<&AvatarUrl>,
) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.external_id = ?");
    let existing = sqlx::query(&sql).bind(external_id.as_str()).fetch_optional(&mut *conn).await.map_err(db)?;
    let Some(row) = existing else {
        let fallback = format!("User {}", external_id.as_str());
        let display = name.map_or(fallback.as_str(), DisplayName::as_str);
        let id: i64 = sqlx::query(
            "INSERT INTO users (external_id, display_name, avatar_url, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(external_id.as_str())
        .bind(display)
        .bind(avatar.map(AvatarUrl::as_str))
        .bind(Timestamp::now().as_millis())
        .fetch_one(&mut *conn)
        .await
        .map_err(conflict_or_backend("external_id"))
        .and_then(|r| rows::get(&r, 0))?;
        return by_id(conn, UserId(id)).await?.ok_or(StoreError::NotFound);
    };
    let user = rows::user(&row)?;
    let Some(update) = ProfileUpdate::from_claims(&user, name, avatar) else { return Ok(user) };
    update_profile(conn, user.id, &update).await
}

pub(crate) async fn update_profile(
    conn: &mut SqliteConnection,
    id: UserId,
    update: &ProfileUpdate,
) -> StoreResult<User> {
    if let Some(name) = &update.name {
        sqlx::query("UPDATE users SET display_name = ? WHERE id = ?")
            .bind(name.as_str())
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some(avatar) = &update.avatar {
        sqlx::query("UPDATE users SET avatar_url = ? WHERE id = ?")
            .bind(avatar.as_ref().map(AvatarUrl::as_str))
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some(hide) = update.hide_last_seen {
        sqlx::query("UPDATE users SET hide_last_seen = ? WHERE id = ?")
            .bind(i64::from(hide))
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    by_id(conn, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn touch_last_seen(conn: &mut SqliteConnection, seen: &[(UserId, Timestamp)]) -> StoreResult<()> {
    for (id, at) in seen {
        sqlx::query("UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?")
            .bind(at.as_millis())
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

pub(crate) async fn set_flags(conn: &mut SqliteConnection, id: UserId, flags: &UserFlags) -> StoreResult<User> {
    by_id(conn, id).await?.ok_or(StoreError::NotFound)?;
    if let Some(admin) = flags.admin {
        sqlx::query("UPDATE users SET is_admin = ? WHERE id = ?")
            .bind(i64::from(admin))
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some(disabled) = flags.disabled {
        sqlx::query("UPDATE users SET disabled_at = CASE WHEN ? THEN COALESCE(disabled_at, ?) END WHERE id = ?")
            .bind(disabled)
            .bind(Timestamp::now().as_millis())
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if disabled {
            // A disabled user's sessions end: refresh tokens cannot bring them back.
            sqlx::query("DELETE FROM refresh_tokens WHERE user_id = ?")
                .bind(id.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
        }
    }
    by_id(conn, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn search(conn: &mut SqliteConnection, query: &str, limit: u32) -> StoreResult<Vec<User>> {
    let escaped = query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u \
         WHERE (u.display_name LIKE ?1 ESCAPE '\\' OR u.username LIKE ?1 ESCAPE '\\') AND u.id != 0 \
         ORDER BY u.display_name COLLATE NOCASE, u.id LIMIT ?2"
    );
    let found = sqlx::query(&sql).bind(pattern).bind(limit).fetch_all(conn).await.map_err(db)?;
    found.iter().map(rows::user).collect()
}

pub(crate) async fn insert_refresh_token(
    conn: &mut SqliteConnection,
    hash: &[u8],
    user: UserId,
    expires_at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO refresh_tokens (token_hash, user_id, expires_at) VALUES (?, ?, ?)")
        .bind(hash)
        .bind(user.0)
        .bind(expires_at.as_millis())
        .execute(conn)
        .await
        .map_err(conflict_or_backend("refresh token"))?;
    Ok(())
}

pub(crate) async fn take_refresh_token(
    conn: &mut SqliteConnection,
    hash: &[u8],
) -> StoreResult<Option<(UserId, Timestamp)>> {
    let row = sqlx::query("DELETE FROM refresh_tokens WHERE token_hash = ? RETURNING user_id, expires_at")
        .bind(hash)
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    match row {
        Some(r) => Ok(Some((UserId(rows::get(&r, 0)?), Timestamp::from_millis(rows::get(&r, 1)?)))),
        None => Ok(None),
    }
}

pub(crate) async fn many(conn: &mut SqliteConnection, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: sqlx::QueryBuilder<sqlx::Sqlite> =
        sqlx::QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id != 0 AND u.id IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.0);
    }
    q.push(")");
    let found = q.build().fetch_all(conn).await.map_err(db)?;
    found.iter().map(rows::user).collect()
}

pub(crate) async fn by_usernames(conn: &mut SqliteConnection, names: &[String]) -> StoreResult<Vec<User>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // `username` is COLLATE NOCASE, so IN compares case-insensitively.
    let mut q: sqlx::QueryBuilder<sqlx::Sqlite> =
        sqlx::QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id != 0 AND u.username IN ("));
    let mut list = q.separated(", ");
    for name in names {
        list.push_bind(name.as_str());
    }
    q.push(")");
    let found = q.build().fetch_all(conn).await.map_err(db)?;
    found.iter().map(rows::user).collect()
}

pub(crate) async fn prune_refresh_tokens(conn: &mut SqliteConnection, before: Timestamp) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < ?")
        .bind(before.as_millis())
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected())
}
