//! The audit log: appending an entry, reading entries back through a filter (newest first,
//! paged by id), and the retention sweep's deletes. Entries are never updated (each
//! backend's migration refuses an `UPDATE`).

use parlor_core::Timestamp;
use parlor_store::{AuditEntry, AuditFilter, NewAuditEntry, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, Row, sql};

pub async fn record<B: Backend>(conn: &mut Conn<'_, B>, entry: &NewAuditEntry) -> StoreResult<i64> {
    let row = sql("INSERT INTO audit_log (at, actor, action, target, request_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
    .bind(entry.at.as_millis())
    .bind(entry.actor.as_str())
    .bind(entry.action.as_str())
    .bind(entry.target.as_deref())
    .bind(entry.request_id.as_deref())
    .bind(entry.details.as_deref())
    .fetch_one(conn)
    .await?;
    row.get(0)
}

pub async fn entries<B: Backend>(conn: &mut Conn<'_, B>, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
    // Each condition given adds its placeholder, numbered in the order it is bound.
    let mut conditions: Vec<String> = Vec::new();
    let mut next = 0;
    let mut placeholder = |column: &str, op: &str| {
        next += 1;
        conditions.push(format!("{column} {op} ${next}"));
    };
    let texts = [("actor", &filter.actor), ("action", &filter.action), ("target", &filter.target)];
    for (column, value) in texts {
        if value.is_some() {
            placeholder(column, "=");
        }
    }
    if filter.since.is_some() {
        placeholder("at", ">=");
    }
    if filter.until.is_some() {
        placeholder("at", "<");
    }
    if filter.before_id.is_some() {
        placeholder("id", "<");
    }
    let limit = next + 1;
    let condition = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let mut statement = sql(format!(
        "SELECT id, at, actor, action, target, request_id, details FROM audit_log {condition} \
         ORDER BY id DESC LIMIT ${limit}"
    ));
    for (_, value) in texts {
        if let Some(value) = value {
            statement = statement.bind(value.as_str());
        }
    }
    for time in [filter.since, filter.until].into_iter().flatten() {
        statement = statement.bind(time.as_millis());
    }
    if let Some(id) = filter.before_id {
        statement = statement.bind(id);
    }
    let found = statement.bind(filter.limit).fetch_all(conn).await?;
    found.iter().map(entry).collect()
}

fn entry<B: Backend>(row: &Row<B>) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        entry: NewAuditEntry {
            at: Timestamp::from_millis(row.get(1)?),
            actor: row.get(2)?,
            action: row.get(3)?,
            target: row.get(4)?,
            request_id: row.get(5)?,
            details: row.get(6)?,
        },
    })
}

pub async fn prune<B: Backend>(conn: &mut Conn<'_, B>, before: Timestamp, limit: u32) -> StoreResult<u64> {
    sql("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)")
        .bind(before.as_millis())
        .bind(limit)
        .execute(conn)
        .await
}
