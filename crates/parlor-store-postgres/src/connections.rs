//! Connections between users (seed 001): requested by one, accepted by the other.

use parlor_core::{Timestamp, UserId};
use parlor_store::{Connection, ConnectionStatus, StoreError, StoreResult};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::rows::{self, conflict_or_backend, corrupt, db};

const COLUMNS: &str = "id, requester_id, addressee_id, status, created_at";

fn connection(row: &PgRow) -> StoreResult<Connection> {
    let status: String = rows::get(row, 3)?;
    Ok(Connection {
        id: rows::get(row, 0)?,
        requester: UserId(rows::get(row, 1)?),
        addressee: UserId(rows::get(row, 2)?),
        status: match status.as_str() {
            "pending" => ConnectionStatus::Pending,
            "accepted" => ConnectionStatus::Accepted,
            other => return Err(corrupt(format!("unknown connection status {other:?}"))),
        },
        created_at: Timestamp::from_millis(rows::get(row, 4)?),
    })
}

fn pair_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

pub(crate) async fn request(conn: &mut PgConnection, from: UserId, to: UserId) -> StoreResult<Connection> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE pair_key = $1");
    let existing = sqlx::query(&sql).bind(pair_key(from, to)).fetch_optional(&mut *conn).await.map_err(db)?;
    if let Some(row) = existing {
        let found = connection(&row)?;
        // They asked first: asking back accepts.
        if found.status == ConnectionStatus::Pending && found.requester == to {
            return accept(conn, found.id).await;
        }
        return Err(StoreError::Conflict("connection"));
    }
    crate::users::ensure_exists(conn, to).await?;
    let sql = format!(
        "INSERT INTO connections (requester_id, addressee_id, status, pair_key, created_at) \
         VALUES ($1, $2, 'pending', $3, $4) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(from.0)
        .bind(to.0)
        .bind(pair_key(from, to))
        .bind(Timestamp::now().as_millis())
        .fetch_one(conn)
        .await
        .map_err(conflict_or_backend("connection"))?;
    connection(&row)
}

pub(crate) async fn by_id(conn: &mut PgConnection, id: i64) -> StoreResult<Option<Connection>> {
    let sql = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(connection).transpose()
}

pub(crate) async fn of_user(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<Connection>> {
    let sql =
        format!("SELECT {COLUMNS} FROM connections WHERE requester_id = $1 OR addressee_id = $1 ORDER BY id DESC");
    let found = sqlx::query(&sql).bind(user.0).fetch_all(conn).await.map_err(db)?;
    found.iter().map(connection).collect()
}

pub(crate) async fn accept(conn: &mut PgConnection, id: i64) -> StoreResult<Connection> {
    let sql = format!("UPDATE connections SET status = 'accepted' WHERE id = $1 RETURNING {COLUMNS}");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await.map_err(db)?.ok_or(StoreError::NotFound)?;
    connection(&row)
}

pub(crate) async fn delete(conn: &mut PgConnection, id: i64) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM connections WHERE id = $1").bind(id).execute(conn).await.map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn connected(conn: &mut PgConnection, a: UserId, b: UserId) -> StoreResult<bool> {
    let row = sqlx::query("SELECT 1 FROM connections WHERE pair_key = $1 AND status = 'accepted'")
        .bind(pair_key(a, b))
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    Ok(row.is_some())
}
