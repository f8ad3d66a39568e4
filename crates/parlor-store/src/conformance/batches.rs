//! Checks for many hot writes queued at once, so a batch writer takes them together: plain
//! messages, replies, files, retries, refusals (a non-member, an archived conversation, a reply
//! to another conversation's message), read and delivered positions. Each write must be
//! answered as it would be alone, a conversation's messages must be numbered in the order they
//! were queued, and the event chain must hold, whatever path (set-wise or one at a time) the
//! backend takes.

use std::future::Future;
use std::pin::Pin;

use parlor_core::{
    AttachmentKind, ClientId, ConversationEvent, ConversationId, Emoji, EventKind, Message, MessageId, NewAttachment,
    Seq, User,
};

use super::rooms::room;
use super::search::search as message_search;
use super::support::*;
use super::transcript::assert_chain_holds;
use crate::{Appended, ConversationPatch, DeliveredUpTo, ReadOutcome, ReadUpTo, Store, StoreError, StoreResult};

/// One queued write's answer, whatever its kind.
enum Answer {
    Appended(StoreResult<Appended>),
    Read(StoreResult<ReadOutcome>),
    Delivered(StoreResult<Vec<ConversationEvent>>),
}

type Queued<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

fn sending<'a>(store: &'a dyn Store, new: parlor_core::NewMessage) -> Queued<'a> {
    Box::pin(async move { Answer::Appended(store.append_message(new).await) })
}

fn appended(answer: &Answer, what: &str) -> Appended {
    match answer {
        Answer::Appended(Ok(a)) => a.clone(),
        Answer::Appended(Err(e)) => panic!("{what}: refused: {e:?}"),
        _ => panic!("{what}: not an append"),
    }
}

fn refused<'a>(answer: &'a Answer, what: &str) -> &'a StoreError {
    match answer {
        Answer::Appended(Err(e)) => e,
        Answer::Appended(Ok(a)) => panic!("{what}: stored, but must be refused: {:?}", a.message()),
        _ => panic!("{what}: not an append"),
    }
}

fn with_client_id(mut new: parlor_core::NewMessage, id: &str) -> parlor_core::NewMessage {
    new.client_id = Some(ClientId::parse(id).expect("valid client id"));
    new
}

fn photo() -> NewAttachment {
    NewAttachment {
        kind: AttachmentKind::Image,
        file_name: "batch.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 2048,
        width: Some(32),
        height: Some(16),
        blob_key: "attachments/batch/1".into(),
        thumbnail_key: None,
        sha256: "abcd".into(),
    }
}

async fn stored(store: &dyn Store, id: ConversationId) -> Vec<Message> {
    let mut found = store.messages_before(id, None, 1000).await.expect("messages_before");
    found.reverse();
    found
}

pub async fn check_mixed_batches(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let bc = direct(store, &bob, &carol).await;
    let closed = room(store, &alice, &[&bob]).await;
    let elsewhere = send(store, bc, &bob, "in another conversation").await;
    let target = send(store, ab, &bob, "reply to me").await;
    let first = append(store, with_client_id(message_to(ab, &alice, "sent once, retried"), "retry-1")).await;
    let thumbs = Emoji::parse("👍").expect("valid emoji");
    store.toggle_reaction(message_of(&first).id, bob.id, &thumbs).await.expect("react to the first send");
    let archive = ConversationPatch { archived: Some(true), ..Default::default() };
    store.update_conversation(closed, alice.id, &archive).await.expect("archive");
    let closed_before = stored_count(store, closed).await;

    let mut reply = message_to(ab, &bob, "a reply");
    reply.reply_to = Some(target.id);
    let mut stray_reply = message_to(ab, &alice, "a reply to another conversation's message");
    stray_reply.reply_to = Some(elsewhere.id);
    let mut file = message_to(ab, &alice, "a photo");
    file.attachment = Some(photo());
    let mut forwarded = message_to(bc, &bob, "forwarded here");
    forwarded.forwarded = true;
    let delivered = DeliveredUpTo { conversation: bc, user: carol.id, up_to: elsewhere.seq, log: true };
    let queued: Vec<Queued<'_>> = vec![
        sending(store, message_to(ab, &alice, "burst one")),
        sending(store, reply),
        sending(store, stray_reply),
        sending(store, message_to(ab, &carol, "not a member")),
        sending(store, message_to(closed, &bob, "archived")),
        sending(store, with_client_id(message_to(ab, &alice, "sent once, retried"), "retry-1")),
        sending(store, with_client_id(message_to(ab, &bob, "retried within the batch"), "new-1")),
        sending(store, with_client_id(message_to(ab, &bob, "retried within the batch"), "new-1")),
        sending(store, file),
        sending(store, message_to(bc, &bob, "the other conversation")),
        Box::pin(async move { Answer::Read(store.mark_read(ab, bob.id, ReadUpTo::Latest, true).await) }),
        Box::pin(async move { Answer::Delivered(store.mark_delivered_many(&[delivered]).await) }),
        sending(store, forwarded),
    ];
    let answers = join_all(queued).await;

    let plain = appended(&answers[0], "a plain message");
    let replied = appended(&answers[1], "a reply");
    assert!(
        matches!(refused(&answers[2], "a reply elsewhere"), StoreError::InvalidReference("reply_to")),
        "a reply to another conversation's message is InvalidReference(reply_to)"
    );
    assert!(matches!(refused(&answers[3], "a non-member"), StoreError::NotFound), "a non-member is NotFound");
    assert!(
        matches!(refused(&answers[4], "an archived room"), StoreError::Rule("archived")),
        "an archived conversation refuses messages in a batch too"
    );
    let retried = appended(&answers[5], "a retry of a stored message");
    assert!(retried.duplicate, "a retry of a stored client_id is a duplicate");
    assert_eq!(message_of(&retried).id, message_of(&first).id, "a retry is answered with the first message");
    assert_eq!(retried.event.seq, first.event.seq, "and its event");
    let reactions: Vec<(&str, &[parlor_core::UserId])> =
        message_of(&retried).reactions.iter().map(|r| (r.emoji.as_str(), r.user_ids.as_slice())).collect();
    assert_eq!(reactions, [("👍", &[bob.id][..])], "with the reactions it has now");
    let new_one = appended(&answers[6], "a new client_id");
    let again = appended(&answers[7], "the same client_id in the same batch");
    assert!(!new_one.duplicate && again.duplicate, "the second of two equal client_ids is the duplicate");
    assert_eq!(message_of(&again).id, message_of(&new_one).id, "answered with the first of the two");
    assert_eq!(again.event.seq, new_one.event.seq, "with the first one's event");
    let filed = appended(&answers[8], "a file message");
    let other = appended(&answers[9], "a message to another conversation");
    let forwarded = appended(&answers[12], "a forwarded message");

    // Stored in the order queued, numbered without gaps, as answered.
    let ab_messages = stored(store, ab).await;
    let ab_ids: Vec<MessageId> = ab_messages.iter().map(|m| m.id).collect();
    let expected: Vec<MessageId> = [
        &target,
        message_of(&first),
        message_of(&plain),
        message_of(&replied),
        message_of(&new_one),
        message_of(&filed),
    ]
    .iter()
    .map(|m| m.id)
    .collect();
    assert_eq!(ab_ids, expected, "a conversation's messages are numbered in the order they were queued");
    let seqs: Vec<Seq> = ab_messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=6).map(Seq).collect::<Vec<_>>(), "message seqs have no gaps");
    for (answer, what) in [(&plain, "plain"), (&replied, "reply"), (&new_one, "client id"), (&filed, "file")] {
        let message = message_of(answer);
        let found = ab_messages.iter().find(|m| m.id == message.id).expect("stored");
        assert_eq!(found, message, "{what}: the answer shows the message as stored");
        let logged = store.events_after(ab, Seq(answer.event.seq.0 - 1), 1).await.expect("events_after");
        assert!(
            matches!(logged.first().map(|e| &e.kind), Some(EventKind::MessageCreated(m)) if m.id == message.id),
            "{what}: the answer's event seq is the message's event"
        );
    }
    let preview = message_of(&replied).reply_to.as_ref().expect("a reply shows what it replies to");
    assert_eq!((preview.id, preview.content.as_str()), (target.id, "reply to me"), "the reply's preview");
    let attachment = message_of(&filed).attachment.as_ref().expect("a file message carries its attachment");
    assert_eq!((attachment.file_name.as_str(), attachment.size), ("batch.jpg", 2048), "the attachment as sent");
    let row = store.attachment_of_message(message_of(&filed).id).await.expect("attachment_of_message");
    assert_eq!(row.map(|a| a.blob_key), Some("attachments/batch/1".to_owned()), "the attachment row is stored");
    assert!(message_of(&forwarded).forwarded, "forwarded stays forwarded");
    let bc_seqs: Vec<(MessageId, Seq)> = stored(store, bc).await.iter().map(|m| (m.id, m.seq)).collect();
    assert_eq!(
        bc_seqs,
        [(elsewhere.id, Seq(1)), (message_of(&other).id, Seq(2)), (message_of(&forwarded).id, Seq(3))],
        "the other conversation is numbered on its own, in order"
    );
    assert_eq!(stored_count(store, closed).await, closed_before, "the archived room stored nothing");

    // Positions: the read and delivered receipts answered, and every writer has read what it wrote.
    let Answer::Read(Ok(read)) = &answers[10] else { panic!("mark_read in a batch is answered") };
    let Answer::Delivered(Ok(receipts)) = &answers[11] else { panic!("mark_delivered_many in a batch is answered") };
    let logged: Vec<(i64, &str, i64)> = receipts.iter().map(shape).collect();
    assert_eq!(logged.len(), 1, "the delivery receipt is logged once: {logged:?}");
    assert_eq!((logged[0].1, logged[0].2), ("delivered", 1), "as delivered up to the message it named");
    let positions = store.positions(ab).await.expect("positions");
    let position = |user: &User| positions.iter().find(|p| p.user_id == user.id).expect("a member's position");
    let newest_own = |user: &User| ab_messages.iter().filter(|m| m.sender_id == user.id).map(|m| m.seq).max();
    assert_eq!(Some(position(&alice).last_read_seq), newest_own(&alice), "alice has read up to her newest message");
    assert_eq!(unread(store, ab, &alice).await, 6 - position(&alice).last_read_seq.0, "alice's unread count");
    let bob_read = newest_own(&bob).expect("bob wrote").max(read.last_read_seq);
    assert_eq!(position(&bob).last_read_seq, bob_read, "bob's read position: his receipt or his newest message");
    let carol_at = store.positions(bc).await.expect("positions");
    let carol_at = carol_at.iter().find(|p| p.user_id == carol.id).expect("carol's position");
    assert_eq!((carol_at.delivered_seq, carol_at.last_read_seq), (Seq(1), Seq(0)), "carol's delivered position moved");
    assert_eq!(unread(store, bc, &carol).await, 3, "carol has three unread messages");

    // The log: every event once, chained in seq order.
    let chained = store.chained_events(ab, Seq::ZERO, 1000).await.expect("chained_events");
    assert_eq!(chained.len() as i64, last_event_seq(store, ab).await.0, "no event gaps");
    assert_chain_holds(&chained);
    let bc_chain = store.chained_events(bc, Seq::ZERO, 1000).await.expect("chained_events");
    assert_chain_holds(&bc_chain);

    // Found by search like any message.
    let hits = store.search_messages(&message_search(&alice, "burst")).await.expect("search_messages");
    assert_eq!(
        hits.iter().map(|h| h.message.id).collect::<Vec<_>>(),
        [message_of(&plain).id],
        "batched messages are indexed"
    );
}

/// Many plain messages at once over several conversations and senders: each conversation's
/// messages keep the order they were queued in, gap-free, with a valid chain.
pub async fn check_large_batches_keep_order(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let conversations =
        [direct(store, &alice, &bob).await, direct(store, &bob, &carol).await, direct(store, &alice, &carol).await];
    let senders = [[&alice, &bob], [&bob, &carol], [&alice, &carol]];
    let mut queued: Vec<Queued<'_>> = Vec::new();
    let mut expected: Vec<Vec<String>> = vec![Vec::new(); conversations.len()];
    for n in 0..300 {
        let at = n % conversations.len();
        let text = format!("message {n}");
        expected[at].push(text.clone());
        queued.push(sending(store, message_to(conversations[at], senders[at][n % 2], &text)));
    }
    for (n, answer) in join_all(queued).await.iter().enumerate() {
        let a = appended(answer, &format!("message {n}"));
        assert!(!a.duplicate, "message {n} is new");
    }
    for (at, id) in conversations.iter().enumerate() {
        let messages = stored(store, *id).await;
        let texts: Vec<String> = messages.iter().map(|m| m.content.clone()).collect();
        assert_eq!(texts, expected[at], "conversation {at}: stored in the order queued");
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq.0).collect();
        assert_eq!(seqs, (1..=100).collect::<Vec<_>>(), "conversation {at}: seqs without gaps");
        let chained = store.chained_events(*id, Seq::ZERO, 1000).await.expect("chained_events");
        assert_eq!(chained.len(), 100, "conversation {at}: one event per message");
        assert_chain_holds(&chained);
    }
}

/// Messages submitted one after another (each `submit_message` returned before the next was
/// called) and awaited only afterwards, as a socket pipelining its sends does: numbered in the
/// order submitted in each conversation (a backend's lanes must not reorder them), a retry
/// behind its first attempt answered as its duplicate, a refusal answered alone.
pub async fn check_submitted_appends_keep_order(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let (ab, ac, bc) =
        (direct(store, &alice, &bob).await, direct(store, &alice, &carol).await, direct(store, &bob, &carol).await);
    let mut pending = Vec::new();
    let mut expected = [Vec::new(), Vec::new()];
    for n in 0..120 {
        let (id, at) = if n % 3 == 0 { (ac, 1) } else { (ab, 0) };
        let text = format!("pipelined {n}");
        expected[at].push(text.clone());
        let new = with_client_id(message_to(id, &alice, &text), &format!("p-{n}"));
        pending.push(store.submit_message(new).await.expect("submit_message"));
    }
    let retry = with_client_id(message_to(ab, &alice, "pipelined 119"), "p-119");
    pending.push(store.submit_message(retry).await.expect("submit a retry"));
    pending.push(store.submit_message(message_to(bc, &alice, "not a member")).await.expect("submit a stranger's"));
    pending.push(store.submit_message(message_to(ab, &alice, "after")).await.expect("submit one more"));
    expected[0].push("after".to_owned());

    let mut outcomes = Vec::new();
    for p in pending {
        outcomes.push(Answer::Appended(p.await));
    }
    for (n, outcome) in outcomes.iter().take(120).enumerate() {
        assert!(!appended(outcome, &format!("message {n}")).duplicate, "message {n} is new");
    }
    let retried = appended(&outcomes[120], "the retry");
    assert!(retried.duplicate, "a retry submitted behind its first attempt is its duplicate");
    assert_eq!(message_of(&retried).id, message_of(&appended(&outcomes[119], "its first")).id, "answered with it");
    assert!(matches!(refused(&outcomes[121], "a non-member"), StoreError::NotFound), "a non-member is NotFound");
    appended(&outcomes[122], "the one after");
    for (at, id) in [ab, ac].into_iter().enumerate() {
        let messages = stored(store, id).await;
        let texts: Vec<String> = messages.iter().map(|m| m.content.clone()).collect();
        assert_eq!(texts, expected[at], "conversation {at}: numbered in the order submitted");
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq.0).collect();
        assert_eq!(seqs, (1..=texts.len() as i64).collect::<Vec<_>>(), "conversation {at}: seqs without gaps");
        assert_chain_holds(&store.chained_events(id, Seq::ZERO, 1000).await.expect("chained_events"));
    }
    assert_eq!(stored_count(store, bc).await, 0, "the stranger's message was not stored");
}
