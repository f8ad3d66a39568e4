//! Contacts between users (`connections` in the schema and the API, as seed 001 says):
//! requested by one, accepted by the other.

use parlor_core::{Contact, ContactStatus, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, Row, sql};

use crate::rows::corrupt;

const COLUMNS: &str = "id, requester_id, addressee_id, status, created_at";

fn contact<B: Backend>(row: &Row<B>) -> StoreResult<Contact> {
    let status: String = row.get(3)?;
    Ok(Contact {
        id: row.get(0)?,
        requester: UserId(row.get(1)?),
        addressee: UserId(row.get(2)?),
        status: match status.as_str() {
            "pending" => ContactStatus::Pending,
            "accepted" => ContactStatus::Accepted,
            other => return Err(corrupt(format!("unknown connection status {other:?}"))),
        },
        created_at: Timestamp::from_millis(row.get(4)?),
    })
}

fn pair_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

pub async fn request<B: Backend>(conn: &mut Conn<'_, B>, from: UserId, to: UserId) -> StoreResult<Contact> {
    let text = format!("SELECT {COLUMNS} FROM connections WHERE pair_key = $1");
    let existing = sql(text).bind(pair_key(from, to)).fetch_optional(conn).await?;
    if let Some(row) = existing {
        let found = contact(&row)?;
        // They asked first: asking back accepts.
        if found.status == ContactStatus::Pending && found.requester == to {
            return accept(conn, found.id).await;
        }
        return Err(StoreError::Conflict("contact"));
    }
    crate::users::ensure_exists(conn, to).await?;
    let text = format!(
        "INSERT INTO connections (requester_id, addressee_id, status, pair_key, created_at) \
         VALUES ($1, $2, 'pending', $3, $4) RETURNING {COLUMNS}"
    );
    let row = sql(text)
        .bind(from.0)
        .bind(to.0)
        .bind(pair_key(from, to))
        .bind(Timestamp::now().as_millis())
        .conflict("contact")
        .fetch_one(conn)
        .await?;
    contact(&row)
}

pub async fn by_id<B: Backend>(conn: &mut Conn<'_, B>, id: i64) -> StoreResult<Option<Contact>> {
    let text = format!("SELECT {COLUMNS} FROM connections WHERE id = $1");
    let row = sql(text).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(contact).transpose()
}

pub async fn of_user<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<Contact>> {
    let text =
        format!("SELECT {COLUMNS} FROM connections WHERE requester_id = $1 OR addressee_id = $1 ORDER BY id DESC");
    let found = sql(text).bind(user.0).fetch_all(conn).await?;
    found.iter().map(contact).collect()
}

pub async fn accept<B: Backend>(conn: &mut Conn<'_, B>, id: i64) -> StoreResult<Contact> {
    let text = format!("UPDATE connections SET status = 'accepted' WHERE id = $1 RETURNING {COLUMNS}");
    let row = sql(text).bind(id).fetch_optional(conn).await?.ok_or(StoreError::NotFound)?;
    contact(&row)
}

pub async fn delete<B: Backend>(conn: &mut Conn<'_, B>, id: i64) -> StoreResult<()> {
    let done = sql("DELETE FROM connections WHERE id = $1").bind(id).execute(conn).await?;
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn are_contacts<B: Backend>(conn: &mut Conn<'_, B>, a: UserId, b: UserId) -> StoreResult<bool> {
    let row = sql("SELECT 1 FROM connections WHERE pair_key = $1 AND status = 'accepted'")
        .bind(pair_key(a, b))
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}
