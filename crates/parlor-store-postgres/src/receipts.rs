//! Many delivery receipts at once, PostgreSQL's way: a node's receipts, gathered over a
//! moment, in the batch writer's transaction, with at most three statements whatever their
//! number.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use parlor_core::chain::{Digest32, to_hex};
use parlor_core::{ConversationEvent, ConversationId, EventKind, Seq, Timestamp, UserId};
use parlor_store::{DeliveredUpTo, StoreResult};
use parlor_store_sql::{Conn, chain};
use sqlx::{PgConnection, Row as _};

use crate::PostgresBackend;
use crate::rows::db;

/// The quiet ones (most of a large room's) in one statement; the logged ones (each an event in
/// its conversation) in two: one reads the positions and the conversations' counters and chain
/// heads, one moves the positions and writes the numbered, chained events (their conversations
/// are locked by the writer). So any number of receipts is at most three round trips.
pub(crate) async fn mark_delivered_many(
    conn: &mut Conn<'_, PostgresBackend>,
    receipts: &[DeliveredUpTo],
) -> StoreResult<Vec<ConversationEvent>> {
    let logged: Vec<DeliveredUpTo> = receipts.iter().filter(|r| r.log).copied().collect();
    let events = if logged.is_empty() { Vec::new() } else { log_many(conn.raw(), &logged).await? };
    let quiet: Vec<DeliveredUpTo> = receipts.iter().filter(|r| !r.log).copied().collect();
    if !quiet.is_empty() {
        raise_quietly(conn, quiet).await?;
    }
    Ok(events)
}

/// Logged receipts, in their order: each moves the member's delivered position up to the
/// message it names (never past the conversation's last message) and logs a
/// `messages_delivered` event; one that does not advance, or of someone no longer a member, is
/// skipped. Two statements.
async fn log_many(conn: &mut PgConnection, receipts: &[DeliveredUpTo]) -> StoreResult<Vec<ConversationEvent>> {
    let found = sqlx::query(
        "SELECT w.conversation_id, w.user_id, LEAST(w.up_to, c.last_message_seq), mb.delivered_seq, \
         c.last_event_seq, c.last_event_hash \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS w(conversation_id, user_id, up_to, ord) \
         JOIN members mb ON mb.conversation_id = w.conversation_id AND mb.user_id = w.user_id AND mb.active = 1 \
         JOIN conversations c ON c.id = w.conversation_id ORDER BY w.ord",
    )
    .bind(receipts.iter().map(|r| r.conversation.0).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.user.0).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.up_to.0).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;

    let now = Timestamp::now();
    let mut positions: HashMap<(i64, i64), i64> = HashMap::new();
    let mut heads: HashMap<i64, (i64, Digest32)> = HashMap::new();
    let mut events = Vec::new();
    let mut rows = EventRows::default();
    for row in &found {
        let conversation: i64 = row.try_get(0).map_err(db)?;
        let user: i64 = row.try_get(1).map_err(db)?;
        let target: i64 = row.try_get(2).map_err(db)?;
        let stored: i64 = row.try_get(3).map_err(db)?;
        let current = positions.entry((conversation, user)).or_insert(stored);
        if target <= *current {
            continue;
        }
        *current = target;
        let (counter, prev) = match heads.entry(conversation) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let last_hash: Option<String> = row.try_get(5).map_err(db)?;
                e.insert((row.try_get(4).map_err(db)?, chain::previous(last_hash.as_deref())?))
            }
        };
        *counter += 1;
        // As `serde_json::json!({ "up_to": target })` writes it on the one-at-a-time path.
        let data = format!("{{\"up_to\":{target}}}");
        let metadata = chain::metadata(None, Some(user), now.as_millis(), Some(&data));
        let link = chain::link(prev, *counter, "messages_delivered", metadata, "");
        *prev = link.digest;
        rows.push(conversation, *counter, user, data, link);
        events.push(ConversationEvent {
            conversation_id: ConversationId(conversation),
            seq: Seq(*counter),
            at: now,
            kind: EventKind::MessagesDelivered { user_id: UserId(user), up_to: Seq(target) },
        });
    }
    if events.is_empty() {
        return Ok(events);
    }
    let mut moves: Vec<((i64, i64), i64)> = positions.into_iter().collect();
    moves.sort_unstable();
    let mut ends: Vec<(i64, (i64, Digest32))> = heads.into_iter().collect();
    ends.sort_unstable_by_key(|(id, _)| *id);
    sqlx::query(
        "WITH mb AS (UPDATE members SET delivered_seq = r.up_to \
            FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS r(conversation_id, user_id, up_to) \
            WHERE members.conversation_id = r.conversation_id AND members.user_id = r.user_id \
              AND members.delivered_seq < r.up_to RETURNING 1), \
         c AS (UPDATE conversations SET last_event_seq = r.seq, last_event_hash = r.hash \
            FROM UNNEST($4::bigint[], $5::bigint[], $6::text[]) AS r(id, seq, hash) WHERE conversations.id = r.id \
            RETURNING 1), \
         e AS (INSERT INTO events (conversation_id, seq, kind, actor_id, data, created_at, content_hash, metadata, hash) \
            SELECT r.conversation_id, r.seq, 'messages_delivered', r.actor_id, r.data, $7, r.content_hash, r.metadata, \
              r.hash FROM UNNEST($8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], \
              $14::text[]) AS r(conversation_id, seq, actor_id, data, content_hash, metadata, hash) RETURNING 1) \
         SELECT (SELECT count(*) FROM mb), (SELECT count(*) FROM c), (SELECT count(*) FROM e)",
    )
    .bind(moves.iter().map(|((c, _), _)| *c).collect::<Vec<_>>())
    .bind(moves.iter().map(|((_, u), _)| *u).collect::<Vec<_>>())
    .bind(moves.iter().map(|(_, up_to)| *up_to).collect::<Vec<_>>())
    .bind(ends.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, (seq, _))| *seq).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, (_, digest))| to_hex(digest)).collect::<Vec<_>>())
    .bind(now.as_millis())
    .bind(&rows.conversations)
    .bind(&rows.seqs)
    .bind(&rows.actors)
    .bind(&rows.data)
    .bind(&rows.content_hashes)
    .bind(&rows.metadata)
    .bind(&rows.hashes)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok(events)
}

/// The columns of the logged receipts' events, one array per column.
#[derive(Default)]
struct EventRows {
    conversations: Vec<i64>,
    seqs: Vec<i64>,
    actors: Vec<i64>,
    data: Vec<String>,
    content_hashes: Vec<String>,
    metadata: Vec<String>,
    hashes: Vec<String>,
}

impl EventRows {
    fn push(&mut self, conversation: i64, seq: i64, actor: i64, data: String, link: chain::Link) {
        self.conversations.push(conversation);
        self.seqs.push(seq);
        self.actors.push(actor);
        self.data.push(data);
        self.content_hashes.push(link.content_hash);
        self.metadata.push(link.metadata);
        self.hashes.push(link.hash);
    }
}

/// One statement for all of them (arrays unnested), so a 10,000-member room's deliveries are
/// one round trip. Rows are locked in (conversation, user) order first, so two nodes raising
/// overlapping positions cannot deadlock on them.
async fn raise_quietly(conn: &mut Conn<'_, PostgresBackend>, receipts: Vec<DeliveredUpTo>) -> StoreResult<()> {
    let mut sorted = receipts;
    sorted.sort_by_key(|r| (r.conversation, r.user));
    let conversations: Vec<i64> = sorted.iter().map(|r| r.conversation.0).collect();
    let users: Vec<i64> = sorted.iter().map(|r| r.user.0).collect();
    let up_to: Vec<i64> = sorted.iter().map(|r| r.up_to.0).collect();
    sqlx::query(
        "WITH r AS (SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS r(conversation_id, user_id, up_to)), \
         locked AS (SELECT mb.conversation_id, mb.user_id FROM members mb JOIN r \
                    ON mb.conversation_id = r.conversation_id AND mb.user_id = r.user_id \
                    WHERE mb.active = 1 ORDER BY mb.conversation_id, mb.user_id FOR UPDATE OF mb) \
         UPDATE members mb SET delivered_seq = LEAST(r.up_to, c.last_message_seq) \
         FROM r JOIN locked l ON l.conversation_id = r.conversation_id AND l.user_id = r.user_id \
         JOIN conversations c ON c.id = r.conversation_id \
         WHERE mb.conversation_id = r.conversation_id AND mb.user_id = r.user_id \
         AND mb.delivered_seq < LEAST(r.up_to, c.last_message_seq)",
    )
    .bind(conversations)
    .bind(users)
    .bind(up_to)
    .execute(conn.raw())
    .await
    .map_err(db)?;
    Ok(())
}
