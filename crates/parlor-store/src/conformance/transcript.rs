//! Checks for the event log's hash chain: every path that logs an event (one message at a
//! time, a batch, edits, deletes, reactions, read and delivered receipts) links it to the one
//! before, in seq order, and the chained events come back with the content each carried.

use parlor_core::chain::{self, Digest32, GENESIS};
use parlor_core::{ConversationId, Emoji, MessageBody, Seq};

use super::support::*;
use crate::{ChainedEvent, DeliveredUpTo, ErasureMode, QueuedUserDeleted, ReadUpTo, Store};

/// Recomputes every link from genesis; panics naming the first broken one.
pub(super) fn assert_chain_holds(events: &[ChainedEvent]) {
    let mut prev: Digest32 = GENESIS;
    for (n, e) in events.iter().enumerate() {
        assert_eq!(e.seq, Seq(n as i64 + 1), "the chain has every seq once, in order");
        let metadata = e.metadata.as_deref().expect("every event is chained");
        let content_hash = chain::from_hex(e.content_hash.as_deref().expect("content hash")).expect("hex");
        // An erased message's text is gone: what the store has no longer matches, by design.
        if let Some(content) = e.content.as_ref().filter(|_| !e.message_erased) {
            assert_eq!(chain::content_hash(content), content_hash, "seq {}: content matches its hash", e.seq.0);
        }
        let expected = chain::link(&prev, e.seq.0, &e.kind, metadata, &content_hash);
        assert_eq!(e.hash.as_deref(), Some(chain::to_hex(&expected).as_str()), "seq {} links to seq {}", e.seq.0, n);
        prev = expected;
    }
}

async fn all(store: &dyn Store, id: ConversationId) -> Vec<ChainedEvent> {
    store.chained_events(id, Seq::ZERO, 1000).await.expect("chained_events")
}

pub async fn check_event_chain(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let id = direct(store, &alice, &bob).await;
    let first = send(store, id, &alice, "first").await;
    let receipt = DeliveredUpTo { conversation: id, user: bob.id, up_to: Seq(1), log: true };
    store.mark_delivered_many(&[receipt]).await.expect("mark_delivered_many");
    let second = send(store, id, &bob, "second").await;
    store.edit_message(first.id, &MessageBody::parse("first, edited".into(), 4000).expect("body")).await.expect("edit");
    store.edit_message(first.id, &MessageBody::parse("first, again".into(), 4000).expect("body")).await.expect("edit");
    store.toggle_reaction(second.id, alice.id, &Emoji::parse("👍").expect("emoji")).await.expect("react");
    store.delete_message(second.id).await.expect("delete");
    store.mark_read(id, alice.id, ReadUpTo::Latest, true).await.expect("mark_read");
    // A burst, so a batch writer appends several at once.
    let sends = (0..20)
        .map(|n| store.append_message(message_to(id, if n % 2 == 0 { &alice } else { &bob }, &format!("burst {n}"))));
    for sent in join_all(sends.collect()).await {
        sent.expect("append_message");
    }

    let events = all(store, id).await;
    assert_eq!(events.len() as i64, last_event_seq(store, id).await.0);
    assert_chain_holds(&events);
    let kinds: Vec<&str> = events.iter().take(8).map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message_created",
            "messages_delivered",
            "message_created",
            "message_edited",
            "message_edited",
            "reaction_changed",
            "message_deleted",
            "messages_read"
        ]
    );
    let contents: Vec<Option<&str>> = events.iter().take(5).map(|e| e.content.as_deref()).collect();
    assert_eq!(
        contents,
        [Some("first"), None, Some("second"), Some("first, edited"), Some("first, again")],
        "each message event with the text it carried, edits included"
    );
    assert!(events[2].message_deleted && !events[0].message_deleted, "deleted messages are marked");
    assert!(!events[2].message_erased, "a delete is not an erasure");
    assert_eq!(events[2].message_id, Some(second.id));
    assert!(events[5].content.is_none() && events[7].content.is_none(), "other events carry no content");
    let burst: Vec<&str> = events[8..].iter().filter_map(|e| e.content.as_deref()).collect();
    assert_eq!(burst.len(), 20, "every message of the burst is chained with its text");

    // Paging continues the same chain.
    let page = store.chained_events(id, Seq(3), 2).await.expect("chained_events");
    assert_eq!(page, events[3..5].to_vec(), "a page is the same events");

    // Each conversation has its own chain.
    let dave = create_user(store, "dave", "Dave").await;
    let other = direct(store, &alice, &dave).await;
    send(store, other, &alice, "elsewhere").await;
    let theirs = send(store, other, &dave, "dave's words").await;
    // An erased account's messages are marked erased, not just deleted; the chain still holds.
    let hook = QueuedUserDeleted { at: theirs.created_at, data: "{}".into() };
    store.erase_user(dave.id, ErasureMode::Delete, &hook).await.expect("erase_user");
    let events = all(store, other).await;
    assert_chain_holds(&events);
    let marks: Vec<(bool, bool)> =
        events.iter().filter(|e| e.kind == "message_created").map(|e| (e.message_deleted, e.message_erased)).collect();
    assert_eq!(marks, [(false, false), (true, true)], "dave's message is erased, alice's untouched");
}
