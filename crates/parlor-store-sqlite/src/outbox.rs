//! Pruning the webhook outbox, which SQLite numbers as it fills (an `AUTOINCREMENT` id: with
//! one writer, ids commit in order). The outbox is filled by a trigger on `events`
//! (`migrations/0006_webhooks.sql`), so no write path can forget it.

use parlor_store::StoreResult;
use parlor_store_sql::{Conn, sql};

use crate::SqliteBackend;

/// Deletes up to `chunk` outbox entries that every endpoint has passed (all of them when there
/// are no endpoints); returns how many. Called repeatedly, each in its own short transaction,
/// so pruning never holds the write connection for long.
pub(crate) async fn prune(conn: &mut Conn<'_, SqliteBackend>, chunk: u32) -> StoreResult<u64> {
    sql("DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM webhook_outbox WHERE id <= \
         COALESCE((SELECT MIN(cursor) FROM webhooks), (SELECT MAX(id) FROM webhook_outbox)) ORDER BY id LIMIT $1)")
    .bind(chunk)
    .execute(conn)
    .await
}
