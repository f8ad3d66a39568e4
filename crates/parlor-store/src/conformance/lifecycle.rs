//! Conformance checks for what happens to a message after it is sent: edits, deletion (a
//! tombstone that keeps its place), reactions, and forwarded copies.

use parlor_core::{
    ConversationEvent, Emoji, EventKind, Message, MessageBody, MessageId, NewMessage, Reaction, Seq, UserId,
};

use super::{UNKNOWN, append, direct, message_of, message_to, send, shape, three_users};
use crate::{Store, StoreError};

pub async fn check_message_lifecycle(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let original = send(store, ab, &alice, "original text").await;

    let event = store.edit_message(original.id, &body("edited once")).await.expect("edit_message");
    assert_eq!((event.conversation_id, event.seq), (ab, Seq(2)), "the edit is logged after the message");
    let EventKind::MessageEdited(edited) = &event.kind else {
        panic!("edit_message returns a MessageEdited event, got {:?}", event.kind);
    };
    assert_eq!((edited.id, edited.seq), (original.id, original.seq), "MessageEdited carries the edited message");
    assert_eq!(edited.content, "edited once", "MessageEdited carries the new content");
    assert!(edited.edited_at.is_some(), "an edited message has edited_at");
    let stored = message(store, original.id).await;
    assert_eq!(stored.content, "edited once", "message(id) shows the new content");
    assert!(stored.edited_at.is_some(), "message(id) shows edited_at");
    assert_eq!((stored.seq, stored.created_at), (original.seq, original.created_at), "editing keeps seq and time");
    assert_eq!(&stored, edited, "MessageEdited carries the message as stored");

    store.edit_message(original.id, &body("edited twice")).await.expect("edit_message");
    let log = store.events_after(ab, Seq::ZERO, 10).await.expect("events_after");
    let replayed: Vec<&str> = log.iter().filter_map(edited_content).collect();
    assert_eq!(replayed, ["edited twice", "edited twice"], "replayed MessageEdited events carry the current content");
    let missing = store.edit_message(MessageId(UNKNOWN), &body("nothing")).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "editing an unknown message is NotFound, got {missing:?}");

    let reply = message_of(
        &append(store, NewMessage { reply_to: Some(original.id), ..message_to(ab, &bob, "quoting it") }).await,
    )
    .clone();
    let later = send(store, ab, &bob, "after it").await;

    let event = store.delete_message(original.id).await.expect("delete_message");
    assert_eq!(event.conversation_id, ab, "the deletion is logged in the message's conversation");
    assert_eq!(
        event.kind,
        EventKind::MessageDeleted { message_id: original.id, message_seq: original.seq },
        "delete_message returns MessageDeleted naming the message and its seq"
    );
    let tombstone = message(store, original.id).await;
    assert_eq!(tombstone.content, "", "a deleted message has empty content");
    assert!(tombstone.deleted_at.is_some(), "a deleted message has deleted_at");
    assert_eq!((tombstone.seq, tombstone.sender_id), (original.seq, alice.id), "a tombstone keeps its seq and sender");
    let page = store.messages_before(ab, None, 10).await.expect("messages_before");
    let seqs: Vec<(i64, &str)> = page.iter().map(|m| (m.seq.0, m.content.as_str())).collect();
    assert_eq!(seqs, [(3, "after it"), (2, "quoting it"), (1, "")], "a tombstone keeps its place in the history");
    assert_eq!(page.last(), Some(&tombstone), "messages_before shows the tombstone as message(id) does");

    let twice = store.delete_message(original.id).await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "deleting twice is NotFound, got {twice:?}");
    let edit_deleted = store.edit_message(original.id, &body("resurrected")).await;
    assert!(
        matches!(edit_deleted, Err(StoreError::NotFound)),
        "editing a deleted message is NotFound, got {edit_deleted:?}"
    );
    let unknown = store.delete_message(MessageId(UNKNOWN)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "deleting an unknown message is NotFound, got {unknown:?}");
    assert_eq!(message(store, original.id).await, tombstone, "failed edits and deletes change nothing");

    let preview = message(store, reply.id).await.reply_to.expect("a reply keeps its preview");
    assert_eq!(preview.id, original.id, "the preview still names the deleted message");
    assert!(preview.deleted, "a reply to a deleted message shows it as deleted");
    assert_eq!(preview.content, "", "a reply to a deleted message quotes nothing");
    assert_eq!(message(store, later.id).await.content, "after it", "deleting leaves other messages alone");

    let log = store.events_after(ab, Seq::ZERO, 20).await.expect("events_after");
    let expected = [
        (1, "message", 1),
        (2, "edited", 1),
        (3, "edited", 1),
        (4, "message", 2),
        (5, "message", 3),
        (6, "deleted", 1),
    ];
    assert_eq!(log.iter().map(shape).collect::<Vec<_>>(), expected, "edits and deletes are logged, gap-free");
}

pub async fn check_reactions(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let target = send(store, ab, &alice, "react to me").await;
    let thumbs = emoji("👍");
    let heart = emoji("❤️");

    let event = toggle(store, target.id, alice.id, &thumbs).await;
    assert_eq!((event.conversation_id, event.seq), (ab, Seq(2)), "the reaction is logged after the message");
    assert_eq!(
        reaction_change(&event),
        (target.id, alice.id, "👍", true, vec![("👍".to_owned(), vec![alice.id])]),
        "a first reaction is added and the event carries the message's reactions"
    );
    let event = toggle(store, target.id, bob.id, &thumbs).await;
    assert_eq!(
        reaction_change(&event),
        (target.id, bob.id, "👍", true, vec![("👍".to_owned(), vec![alice.id, bob.id])]),
        "a second user's reaction joins the first"
    );
    let event = toggle(store, target.id, alice.id, &thumbs).await;
    assert_eq!(
        reaction_change(&event),
        (target.id, alice.id, "👍", false, vec![("👍".to_owned(), vec![bob.id])]),
        "toggling one's own reaction again removes it"
    );
    let event = toggle(store, target.id, bob.id, &heart).await;
    let both = vec![("❤️".to_owned(), vec![bob.id]), ("👍".to_owned(), vec![bob.id])];
    assert_eq!(reaction_change(&event).4, both, "a user can add several emoji to one message");

    assert_eq!(normalise(&message(store, target.id).await.reactions), both, "message(id) carries the reactions");
    let page = store.messages_before(ab, None, 10).await.expect("messages_before");
    let listed = page.iter().find(|m| m.id == target.id).expect("the message is listed");
    assert_eq!(normalise(&listed.reactions), both, "messages_before carries the reactions");
    let log = store.events_after(ab, Seq::ZERO, 10).await.expect("events_after");
    assert_eq!(
        log.iter().map(shape).map(|(seq, kind, _)| (seq, kind)).collect::<Vec<_>>(),
        [(1, "message"), (2, "reaction"), (3, "reaction"), (4, "reaction"), (5, "reaction")],
        "every toggle is logged, gap-free"
    );

    let unknown = store.toggle_reaction(MessageId(UNKNOWN), alice.id, &thumbs).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound)),
        "reacting to an unknown message is NotFound, got {unknown:?}"
    );
    store.delete_message(target.id).await.expect("delete_message");
    assert_eq!(message(store, target.id).await.reactions, [], "deleting a message clears its reactions");
    let deleted = store.toggle_reaction(target.id, alice.id, &thumbs).await;
    assert!(matches!(deleted, Err(StoreError::NotFound)), "reacting to a deleted message is NotFound, got {deleted:?}");
}

/// History pages read a message's reactions with its row; they must be what `message(id)`
/// says, in its order (emoji by emoji as first used, users as they reacted), message by message.
pub async fn check_reactions_in_pages(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let room = direct(store, &alice, &bob).await;
    let plain = send(store, room, &alice, "no reactions").await;
    let first = send(store, room, &bob, "first").await;
    let second = send(store, room, &alice, "second").await;
    let (thumbs, heart, party) = (emoji("👍"), emoji("❤️"), emoji("🎉"));
    // In an order where time and user id agree, so ties within a millisecond change nothing.
    for (id, user, e) in [
        (first.id, bob.id, &heart),
        (first.id, alice.id, &thumbs),
        (second.id, alice.id, &thumbs),
        (first.id, bob.id, &heart),
        (first.id, bob.id, &party),
        (second.id, bob.id, &thumbs),
    ] {
        toggle(store, id, user, e).await;
    }
    let in_order = |reactions: &[Reaction]| -> Reactions {
        reactions.iter().map(|r| (r.emoji.clone(), r.user_ids.clone())).collect()
    };
    let expected = [
        (plain.id, vec![]),
        (first.id, vec![("👍".to_owned(), vec![alice.id]), ("🎉".to_owned(), vec![bob.id])]),
        (second.id, vec![("👍".to_owned(), vec![alice.id, bob.id])]),
    ];
    let before = store.messages_before(room, None, 10).await.expect("messages_before");
    let after = store.messages_after(room, Seq::ZERO, 10).await.expect("messages_after");
    for (id, reactions) in expected.clone() {
        assert_eq!(in_order(&message(store, id).await.reactions), reactions, "message(id) of {id:?}");
        for (name, page) in [("messages_before", &before), ("messages_after", &after)] {
            let listed = page.iter().find(|m| m.id == id).expect("the message is listed");
            assert_eq!(in_order(&listed.reactions), reactions, "{name} carries {id:?}'s reactions in order");
        }
    }
    // Replayed events carry the reactions as they are now, the reaction changes' too.
    let log = store.events_after(room, Seq::ZERO, 50).await.expect("events_after");
    let mut changes = 0;
    for event in &log {
        let (id, now) = match &event.kind {
            EventKind::MessageCreated(m) => (m.id, &m.reactions),
            EventKind::ReactionChanged { message_id, reactions, .. } => {
                changes += 1;
                (*message_id, reactions)
            }
            _ => continue,
        };
        let want = expected.iter().find(|(m, _)| *m == id).map(|(_, r)| r.clone()).expect("one of the messages");
        assert_eq!(in_order(now), want, "events_after: {id:?}'s reactions as they are now");
    }
    assert_eq!(changes, 6, "every toggle is replayed");
}

pub async fn check_forwarded_messages(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let plain = send(store, ab, &bob, "worth sharing").await;
    assert!(!plain.forwarded, "a plain message is not forwarded");

    let copy = NewMessage { forwarded: true, ..message_to(ac, &alice, "worth sharing") };
    let forwarded = message_of(&append(store, copy).await).clone();
    assert!(forwarded.forwarded, "append_message keeps forwarded: true");
    assert!(message(store, forwarded.id).await.forwarded, "message(id) shows the message as forwarded");
    let page = store.messages_before(ac, None, 10).await.expect("messages_before");
    assert!(page.iter().all(|m| m.forwarded), "messages_before shows the message as forwarded");
    assert!(!message(store, plain.id).await.forwarded, "the original stays a plain message");
}

fn body(text: &str) -> MessageBody {
    MessageBody::parse(text.to_owned(), 4000).expect("valid message body")
}

fn emoji(raw: &str) -> Emoji {
    Emoji::parse(raw).expect("valid emoji")
}

async fn message(store: &dyn Store, id: MessageId) -> Message {
    store.message(id).await.expect("message").expect("the message exists")
}

async fn toggle(store: &dyn Store, id: MessageId, user: UserId, emoji: &Emoji) -> ConversationEvent {
    store.toggle_reaction(id, user, emoji).await.expect("toggle_reaction")
}

fn edited_content(event: &ConversationEvent) -> Option<&str> {
    match &event.kind {
        EventKind::MessageEdited(message) => Some(message.content.as_str()),
        _ => None,
    }
}

/// Reactions as (emoji, users), sorted, for comparing regardless of order.
type Reactions = Vec<(String, Vec<UserId>)>;

/// A `ReactionChanged` event as (message, user, emoji, added, normalised reactions).
fn reaction_change(event: &ConversationEvent) -> (MessageId, UserId, &str, bool, Reactions) {
    match &event.kind {
        EventKind::ReactionChanged { message_id, user_id, emoji, added, reactions } => {
            (*message_id, *user_id, emoji.as_str(), *added, normalise(reactions))
        }
        other => panic!("toggle_reaction returns a ReactionChanged event, got {other:?}"),
    }
}

/// Reactions sorted by emoji, each with its users sorted: the trait promises no order.
fn normalise(reactions: &[Reaction]) -> Reactions {
    let mut out: Vec<(String, Vec<UserId>)> = reactions
        .iter()
        .map(|r| {
            let mut users = r.user_ids.clone();
            users.sort();
            (r.emoji.clone(), users)
        })
        .collect();
    out.sort();
    out
}
