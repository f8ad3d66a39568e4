//! Appending a whole batch of messages set-wise, PostgreSQL's way: three statements whatever the
//! batch's size, its columns travelling as arrays (`UNNEST`). One reads what every message
//! needs checked (membership, archive, an earlier message with its `client_id`, the reply's
//! target, the conversation's counters and chain head) and reserves the new messages' ids; the
//! seq numbers and chain links are computed here, in the batch's order per conversation; one
//! statement writes the messages, their files, their events, the conversations' counters and
//! the senders' read positions; one reads the stored messages back as clients see them.
//!
//! Every message gets its own answer, as on the one-at-a-time path (`messages::append`): a
//! sender who is not a member, an archived conversation, a reply to a message elsewhere are
//! refused alone, and a retry (a `client_id` already stored, or earlier in the same batch) is
//! answered with the first message. Runs in the batch writer's transaction, after the
//! conversations' rows were locked, so nothing moves between the check and the writes.

use std::collections::HashMap;

use parlor_core::chain::{Digest32, to_hex};
use parlor_core::{ConversationEvent, EventKind, Message, NewMessage, Seq, Timestamp};
use parlor_store::{Appended, StoreError, StoreResult};
use parlor_store_sql::rows::{MESSAGE_COLUMNS, MESSAGE_JOINS, MESSAGE_REACTIONS};
use parlor_store_sql::{Row, chain};
use sqlx::{PgConnection, Row as _};

use crate::PostgresBackend;
use crate::rows::db;

/// What the check found for one message.
struct Checked {
    member: bool,
    archived: bool,
    earlier: Option<i64>,
    reply_found: bool,
    last_message_seq: i64,
    last_event_seq: i64,
    last_event_hash: Option<String>,
    reserved_id: i64,
}

/// How one message of the batch is answered, before the read-back.
enum Plan {
    Refused(StoreError),
    /// Stored now with this id and event seq.
    New(i64, i64),
    /// A retry of a message stored before this batch.
    Earlier(i64),
    /// A retry of the batch's message at this index.
    Again(usize),
}

/// Each conversation's counters and chain head, moved along as the batch is numbered.
struct Head {
    seq: i64,
    event_seq: i64,
    last_id: Option<i64>,
    digest: Digest32,
}

/// Stores `batch` in order and answers each message.
pub(crate) async fn append_many(
    conn: &mut PgConnection,
    batch: &[&NewMessage],
) -> StoreResult<Vec<StoreResult<Appended>>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let checked = check(conn, batch).await?;
    let now = Timestamp::now().as_millis();

    let mut heads: HashMap<i64, Head> = HashMap::new();
    let mut stored_here: HashMap<(i64, i64, &str), usize> = HashMap::new();
    let mut new_ids: HashMap<i64, i64> = HashMap::new();
    let mut plans = Vec::with_capacity(batch.len());
    let mut rows = Rows::default();
    for (at, (new, found)) in batch.iter().zip(&checked).enumerate() {
        let conversation = new.conversation_id.0;
        if !found.member {
            plans.push(Plan::Refused(StoreError::NotFound));
            continue;
        }
        let key = new.client_id.as_ref().map(|c| (conversation, new.sender_id.0, c.as_str()));
        if let Some(earlier) = found.earlier {
            plans.push(Plan::Earlier(earlier));
            continue;
        }
        if let Some(first) = key.and_then(|k| stored_here.get(&k)) {
            plans.push(Plan::Again(*first));
            continue;
        }
        if found.archived {
            plans.push(Plan::Refused(StoreError::Rule("archived")));
            continue;
        }
        // A reply's target may also be a message stored earlier in this batch.
        if let Some(target) = new.reply_to
            && !found.reply_found
            && new_ids.get(&target.0) != Some(&conversation)
        {
            plans.push(Plan::Refused(StoreError::InvalidReference("reply_to")));
            continue;
        }
        let head = match heads.entry(conversation) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(Head {
                seq: found.last_message_seq,
                event_seq: found.last_event_seq,
                last_id: None,
                digest: chain::previous(found.last_event_hash.as_deref())?,
            }),
        };
        head.seq += 1;
        head.event_seq += 1;
        let id = found.reserved_id;
        head.last_id = Some(id);
        let metadata = chain::metadata(Some(id), Some(new.sender_id.0), now, None);
        let link = chain::link(&head.digest, head.event_seq, "message_created", metadata, new.body.as_str());
        head.digest = link.digest;
        rows.push(new, id, head.seq, head.event_seq, link);
        new_ids.insert(id, conversation);
        if let Some(k) = key {
            stored_here.insert(k, at);
        }
        plans.push(Plan::New(id, head.event_seq));
    }
    if !rows.ids.is_empty() {
        write(conn, &rows, &heads, now).await?;
    }
    answer(conn, plans, &rows).await
}

/// The first statement: every message's checks in the batch's order, and an id reserved for
/// each (an id a refused message leaves unused is a gap, as a rolled-back insert leaves).
async fn check(conn: &mut PgConnection, batch: &[&NewMessage]) -> StoreResult<Vec<Checked>> {
    let conversations: Vec<i64> = batch.iter().map(|n| n.conversation_id.0).collect();
    let senders: Vec<i64> = batch.iter().map(|n| n.sender_id.0).collect();
    let clients: Vec<Option<&str>> = batch.iter().map(|n| n.client_id.as_ref().map(|c| c.as_str())).collect();
    let replies: Vec<Option<i64>> = batch.iter().map(|n| n.reply_to.map(|m| m.0)).collect();
    let found = sqlx::query(
        "SELECT mb.user_id IS NOT NULL, c.archived_at IS NOT NULL, \
         (SELECT m.id FROM messages m WHERE w.client_id IS NOT NULL AND m.conversation_id = w.conversation_id \
          AND m.sender_id = w.sender_id AND m.client_id = w.client_id), \
         w.reply_to IS NOT NULL AND EXISTS (SELECT 1 FROM messages r WHERE r.id = w.reply_to \
          AND r.conversation_id = w.conversation_id), \
         COALESCE(c.last_message_seq, 0), COALESCE(c.last_event_seq, 0), c.last_event_hash, \
         nextval(pg_get_serial_sequence('messages', 'id')) \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY \
              AS w(conversation_id, sender_id, client_id, reply_to, ord) \
         LEFT JOIN members mb ON mb.conversation_id = w.conversation_id AND mb.user_id = w.sender_id AND mb.active = 1 \
         LEFT JOIN conversations c ON c.id = mb.conversation_id \
         ORDER BY w.ord",
    )
    .bind(conversations)
    .bind(senders)
    .bind(clients)
    .bind(replies)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    if found.len() != batch.len() {
        return Err(StoreError::backend(std::io::Error::other("the batch check lost rows")));
    }
    found
        .iter()
        .map(|r| {
            Ok(Checked {
                member: r.try_get(0).map_err(db)?,
                archived: r.try_get::<Option<bool>, _>(1).map_err(db)?.unwrap_or(false),
                earlier: r.try_get(2).map_err(db)?,
                reply_found: r.try_get::<Option<bool>, _>(3).map_err(db)?.unwrap_or(false),
                last_message_seq: r.try_get(4).map_err(db)?,
                last_event_seq: r.try_get(5).map_err(db)?,
                last_event_hash: r.try_get(6).map_err(db)?,
                reserved_id: r.try_get(7).map_err(db)?,
            })
        })
        .collect()
}

/// The columns of the messages stored by this batch, one array per column.
#[derive(Default)]
struct Rows {
    ids: Vec<i64>,
    conversations: Vec<i64>,
    seqs: Vec<i64>,
    event_seqs: Vec<i64>,
    senders: Vec<i64>,
    contents: Vec<String>,
    replies: Vec<Option<i64>>,
    clients: Vec<Option<String>>,
    forwarded: Vec<i64>,
    content_hashes: Vec<String>,
    metadata: Vec<String>,
    hashes: Vec<String>,
    files: Files,
}

/// The attachments of the file messages among them.
#[derive(Default)]
struct Files {
    message_ids: Vec<i64>,
    conversations: Vec<i64>,
    kinds: Vec<String>,
    names: Vec<String>,
    content_types: Vec<String>,
    sizes: Vec<i64>,
    widths: Vec<Option<i64>>,
    heights: Vec<Option<i64>>,
    blob_keys: Vec<String>,
    thumbnail_keys: Vec<Option<String>>,
    sha256s: Vec<String>,
}

impl Rows {
    fn push(&mut self, new: &NewMessage, id: i64, seq: i64, event_seq: i64, link: chain::Link) {
        self.ids.push(id);
        self.conversations.push(new.conversation_id.0);
        self.seqs.push(seq);
        self.event_seqs.push(event_seq);
        self.senders.push(new.sender_id.0);
        self.contents.push(new.body.as_str().to_owned());
        self.replies.push(new.reply_to.map(|m| m.0));
        self.clients.push(new.client_id.as_ref().map(|c| c.as_str().to_owned()));
        self.forwarded.push(i64::from(new.forwarded));
        self.content_hashes.push(link.content_hash);
        self.metadata.push(link.metadata);
        self.hashes.push(link.hash);
        if let Some(a) = &new.attachment {
            let f = &mut self.files;
            f.message_ids.push(id);
            f.conversations.push(new.conversation_id.0);
            f.kinds.push(a.kind.as_str().to_owned());
            f.names.push(a.file_name.clone());
            f.content_types.push(a.content_type.clone());
            f.sizes.push(a.size);
            f.widths.push(a.width);
            f.heights.push(a.height);
            f.blob_keys.push(a.blob_key.clone());
            f.thumbnail_keys.push(a.thumbnail_key.clone());
            f.sha256s.push(a.sha256.clone());
        }
    }
}

/// The second statement: messages, attachments, events, counters and read positions at once.
/// The messages' foreign keys (a reply to a message of the same batch, the events' and files'
/// message ids) are checked at the statement's end, when all of its rows exist.
async fn write(conn: &mut PgConnection, rows: &Rows, heads: &HashMap<i64, Head>, now: i64) -> StoreResult<()> {
    // Whoever writes has read everything before it: each sender's newest seq per conversation.
    let mut readers: HashMap<(i64, i64), i64> = HashMap::new();
    for ((conversation, sender), seq) in rows.conversations.iter().zip(&rows.senders).zip(&rows.seqs) {
        let newest = readers.entry((*conversation, *sender)).or_insert(*seq);
        *newest = (*newest).max(*seq);
    }
    // Sorted, so two writers moving overlapping rows take their locks in the same order.
    let mut readers: Vec<((i64, i64), i64)> = readers.into_iter().collect();
    readers.sort_unstable();
    let mut ends: Vec<(i64, &Head)> = heads.iter().map(|(id, head)| (*id, head)).collect();
    ends.sort_unstable_by_key(|(id, _)| *id);
    let f = &rows.files;
    sqlx::query(
        "WITH m AS (INSERT INTO messages (id, conversation_id, seq, event_seq, sender_id, content, reply_to, \
              client_id, created_at, kind, system, forwarded) \
            SELECT r.id, r.conversation_id, r.seq, r.event_seq, r.sender_id, r.content, r.reply_to, r.client_id, \
              $1, 'text', NULL, r.forwarded \
            FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], \
              $8::bigint[], $9::text[], $10::bigint[]) \
              AS r(id, conversation_id, seq, event_seq, sender_id, content, reply_to, client_id, forwarded) \
            RETURNING 1), \
         e AS (INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, created_at, content_hash, \
              metadata, hash) \
            SELECT r.conversation_id, r.seq, 'message_created', r.message_id, r.actor_id, $1, r.content_hash, \
              r.metadata, r.hash \
            FROM UNNEST($3::bigint[], $5::bigint[], $2::bigint[], $6::bigint[], $11::text[], $12::text[], \
              $13::text[]) AS r(conversation_id, seq, message_id, actor_id, content_hash, metadata, hash) \
            RETURNING 1), \
         a AS (INSERT INTO attachments (message_id, conversation_id, kind, file_name, content_type, size, width, \
              height, blob_key, thumbnail_key, sha256, created_at) \
            SELECT r.*, $1 FROM UNNEST($14::bigint[], $15::bigint[], $16::text[], $17::text[], $18::text[], \
              $19::bigint[], $20::bigint[], $21::bigint[], $22::text[], $23::text[], $24::text[]) AS r \
            RETURNING 1), \
         c AS (UPDATE conversations SET last_message_seq = r.seq, last_event_seq = r.event_seq, \
              last_message_id = r.message_id, last_event_hash = r.hash, last_activity_at = $1 \
            FROM UNNEST($25::bigint[], $26::bigint[], $27::bigint[], $28::bigint[], $29::text[]) \
              AS r(id, seq, event_seq, message_id, hash) WHERE conversations.id = r.id \
            RETURNING 1), \
         mb AS (UPDATE members SET last_read_seq = r.seq, delivered_seq = GREATEST(members.delivered_seq, r.seq) \
            FROM UNNEST($30::bigint[], $31::bigint[], $32::bigint[]) AS r(conversation_id, user_id, seq) \
            WHERE members.conversation_id = r.conversation_id AND members.user_id = r.user_id \
              AND members.last_read_seq < r.seq \
            RETURNING 1) \
         SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM e), (SELECT count(*) FROM a), (SELECT count(*) FROM c), \
           (SELECT count(*) FROM mb)",
    )
    .bind(now)
    .bind(&rows.ids)
    .bind(&rows.conversations)
    .bind(&rows.seqs)
    .bind(&rows.event_seqs)
    .bind(&rows.senders)
    .bind(&rows.contents)
    .bind(&rows.replies)
    .bind(&rows.clients)
    .bind(&rows.forwarded)
    .bind(&rows.content_hashes)
    .bind(&rows.metadata)
    .bind(&rows.hashes)
    .bind(&f.message_ids)
    .bind(&f.conversations)
    .bind(&f.kinds)
    .bind(&f.names)
    .bind(&f.content_types)
    .bind(&f.sizes)
    .bind(&f.widths)
    .bind(&f.heights)
    .bind(&f.blob_keys)
    .bind(&f.thumbnail_keys)
    .bind(&f.sha256s)
    .bind(ends.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, h)| h.seq).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, h)| h.event_seq).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, h)| h.last_id).collect::<Vec<_>>())
    .bind(ends.iter().map(|(_, h)| to_hex(&h.digest)).collect::<Vec<_>>())
    .bind(readers.iter().map(|((c, _), _)| *c).collect::<Vec<_>>())
    .bind(readers.iter().map(|((_, u), _)| *u).collect::<Vec<_>>())
    .bind(readers.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The third statement: the stored messages (and the earlier ones retries are answered with)
/// read back as the one-at-a-time path reads them, with sender names, reply previews and
/// reactions (a retried message may have been reacted to since); then each message's answer in
/// the batch's order.
async fn answer(conn: &mut PgConnection, plans: Vec<Plan>, rows: &Rows) -> StoreResult<Vec<StoreResult<Appended>>> {
    let mut wanted: Vec<i64> = rows.ids.clone();
    wanted.extend(plans.iter().filter_map(|p| if let Plan::Earlier(id) = p { Some(*id) } else { None }));
    let mut messages: HashMap<i64, (Message, Seq)> = HashMap::with_capacity(wanted.len());
    if !wanted.is_empty() {
        let text = format!(
            "SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM UNNEST($1::bigint[]) AS wanted(id) JOIN messages m ON m.id = wanted.id \
             {MESSAGE_JOINS}"
        );
        let found = sqlx::query(&text).bind(&wanted).fetch_all(&mut *conn).await.map_err(db)?;
        for row in found {
            let (message, seq) = parlor_store_sql::rows::message_with_reactions(&Row::<PostgresBackend>(row))?;
            messages.insert(message.id.0, (message, seq));
        }
    }
    let event_of = |id: i64, seq: Option<i64>| -> StoreResult<ConversationEvent> {
        let (message, stored_seq) = messages.get(&id).cloned().ok_or(StoreError::NotFound)?;
        Ok(ConversationEvent {
            conversation_id: message.conversation_id,
            seq: seq.map_or(stored_seq, Seq),
            at: message.created_at,
            kind: EventKind::MessageCreated(message),
        })
    };
    let mut answers: Vec<StoreResult<Appended>> = Vec::with_capacity(plans.len());
    for plan in plans {
        let answer = match plan {
            Plan::Refused(e) => Err(e),
            Plan::New(id, event_seq) => event_of(id, Some(event_seq)).map(|event| Appended { event, duplicate: false }),
            Plan::Earlier(id) => event_of(id, None).map(|event| Appended { event, duplicate: true }),
            // Only a stored message is answered again.
            Plan::Again(first) => match answers.get(first) {
                Some(Ok(a)) => Ok(Appended { event: a.event.clone(), duplicate: true }),
                _ => Err(StoreError::Unavailable),
            },
        };
        answers.push(answer);
    }
    Ok(answers)
}
