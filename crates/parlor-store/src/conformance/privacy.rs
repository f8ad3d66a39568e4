//! Conformance checks for the data rights: erasing an account (delete and anonymize), the
//! retention sweep (server-wide and per conversation), and the legal hold that stops both.

use parlor_core::{
    ConversationId, Emoji, MessageBody, MessageId, NewMessage, Role, RoomTitle, SearchQuery, Seq, Timestamp, UserId,
};

use super::{UNKNOWN, append, direct, is_member, message_of, message_to, send, three_users};
use crate::{ErasureMode, MessageSearch, NewRoom, QueuedUserDeleted, Store, StoreError};

fn hook() -> QueuedUserDeleted {
    QueuedUserDeleted { at: Timestamp::now(), data: r#"{"user_id":1}"#.into() }
}

async fn room(store: &dyn Store, creator: UserId, members: Vec<UserId>) -> ConversationId {
    let new = NewRoom {
        creator,
        title: RoomTitle::parse("Crew").expect("valid title"),
        avatar: None,
        members,
        context: None,
    };
    store.create_room(new).await.expect("create_room").0
}

async fn found(store: &dyn Store, user: UserId, text: &str) -> Vec<MessageId> {
    let search = MessageSearch {
        user,
        query: SearchQuery::parse(text).expect("valid query"),
        conversation: None,
        sender: None,
        after: None,
        before: None,
        has: None,
        limit: 50,
        offset: 0,
        below: None,
        window: MessageSearch::WINDOW,
    };
    store.search_messages(&search).await.expect("search_messages").into_iter().map(|h| h.message.id).collect()
}

async fn content(store: &dyn Store, id: MessageId) -> (String, bool, String) {
    let m = store.message(id).await.expect("message").expect("the message row stays");
    (m.content, m.deleted_at.is_some(), m.sender_name)
}

pub async fn check_erasure_deletes(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let crew = room(store, alice.id, vec![bob.id, carol.id]).await;
    let ab = direct(store, &alice, &bob).await;
    let hers = send(store, crew, &alice, "zebracrossing plans").await;
    let edited = send(store, ab, &alice, "first draft").await;
    store
        .edit_message(edited.id, &MessageBody::parse("zebracrossing final".into(), 100).expect("body"))
        .await
        .expect("edit");
    let reply =
        message_of(&append(store, NewMessage { reply_to: Some(hers.id), ..message_to(crew, &bob, "on it") }).await)
            .clone();
    let thumbs = Emoji::parse("👍").expect("emoji");
    store.toggle_reaction(reply.id, alice.id, &thumbs).await.expect("react");
    store.set_block(alice.id, carol.id, true).await.expect("block");

    let erasure = store.erase_user(alice.id, ErasureMode::Delete, &hook()).await.expect("erase_user");
    assert_eq!(erasure.events.len(), 2, "one MessageDeleted per erased message: {:?}", erasure.events);
    let erased = store.user(alice.id).await.expect("user").expect("the row stays, emptied");
    assert_eq!(
        (erased.name.as_str(), erased.username.as_deref(), erased.avatar.as_deref(), erased.disabled),
        ("Deleted user", None, None, true),
        "an erased account keeps no name and cannot sign in"
    );
    assert!(store.credentials("alice").await.expect("credentials").is_none(), "no credentials are left");
    for id in [hers.id, edited.id] {
        assert_eq!(
            content(store, id).await,
            (String::new(), true, "Deleted user".into()),
            "her messages are tombstones"
        );
    }
    let kept = store.message(reply.id).await.expect("message").expect("bob's reply stays");
    assert_eq!(kept.content, "on it", "other people's messages stay");
    assert!(kept.reactions.is_empty(), "her reactions go: {:?}", kept.reactions);
    let quoted = kept.reply_to.expect("the reply still quotes");
    assert!(quoted.deleted && quoted.content.is_empty(), "the quote shows the erased message as deleted: {quoted:?}");
    assert!(found(store, bob.id, "zebracrossing").await.is_empty(), "search finds none of her words, edits included");
    assert!(!is_member(store, crew, &alice).await, "she leaves the room");
    let bob_in_crew = store.membership(crew, bob.id).await.expect("membership").expect("bob is a member");
    assert_eq!(bob_in_crew.role, Role::Owner, "the room's longest-standing member becomes its owner");
    assert!(erasure.conversations.contains(&crew), "the room's member list changed");
    assert!(!store.blocked_between(alice.id, carol.id).await.expect("blocked_between"), "her blocks go");
    let again = store.erase_user(alice.id, ErasureMode::Delete, &hook()).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "erasing twice is NotFound, got {again:?}");
    let system = store.erase_user(UserId::SYSTEM, ErasureMode::Delete, &hook()).await;
    assert!(matches!(system, Err(StoreError::NotFound)), "the system user cannot be erased, got {system:?}");
}

pub async fn check_erasure_anonymizes_and_holds(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let held = send(store, ab, &alice, "the disputed quote").await;
    let free = send(store, ac, &alice, "an ordinary note").await;
    store.set_legal_hold(ab, true).await.expect("set_legal_hold");
    let unknown = store.set_legal_hold(ConversationId(UNKNOWN), true).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound)),
        "holding an unknown conversation is NotFound, got {unknown:?}"
    );

    let erasure = store.erase_user(alice.id, ErasureMode::Delete, &hook()).await.expect("erase_user");
    assert_eq!(erasure.events.len(), 1, "only the message outside the hold is erased");
    assert_eq!(content(store, held.id).await.0, "the disputed quote", "a held conversation keeps its content");
    assert!(content(store, free.id).await.1, "outside the hold, content goes");
    let overview = store.overview(ab, bob.id).await.expect("overview").expect("bob's view");
    assert!(overview.conversation.legal_hold, "the conversation says it is held");

    let dave = store.create_user(super::new_user("dave", "Dave")).await.expect("create_user");
    let bd = direct(store, &bob, &dave).await;
    let kept = send(store, bd, &dave, "keep my words").await;
    store.erase_user(dave.id, ErasureMode::Anonymize, &hook()).await.expect("erase_user");
    assert_eq!(
        content(store, kept.id).await,
        ("keep my words".into(), false, "Deleted user".into()),
        "anonymize keeps the content under \"Deleted user\""
    );
}

pub async fn check_retention_sweep(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let crew = room(store, alice.id, vec![bob.id]).await;
    let old_ab = send(store, ab, &alice, "disappearing soon").await;
    let old_ac = send(store, ac, &alice, "kept by default").await;
    let old_crew = send(store, crew, &bob, "held forever").await;

    let set = store.set_retention(ab, alice.id, Some(60)).await.expect("set_retention").expect("changed");
    let notice = message_of(&set);
    assert!(notice.content.contains("1 minute"), "the system message says the period: {:?}", notice.content);
    assert!(store.set_retention(ab, bob.id, Some(60)).await.expect("set_retention").is_none(), "same value: nothing");
    let unknown = store.set_retention(ConversationId(UNKNOWN), alice.id, Some(60)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "unknown conversation: NotFound, got {unknown:?}");
    assert_eq!(
        store.overview(ab, bob.id).await.expect("overview").expect("view").conversation.retention_secs,
        Some(60)
    );
    store.set_legal_hold(crew, true).await.expect("set_legal_hold");

    let now = Timestamp::now();
    let none = store.sweep_messages(None, now, 10).await.expect("sweep_messages");
    assert!(none.events.is_empty(), "nothing is a minute old yet: {:?}", none.events);

    let later = Timestamp::from_millis(now.as_millis() + 61_000);
    let swept = store.sweep_messages(None, later, 10).await.expect("sweep_messages");
    let erased: Vec<MessageId> = swept.events.iter().filter_map(deleted_id).collect();
    assert_eq!(erased, [old_ab.id], "only the conversation with its own retention is swept");
    assert!(content(store, old_ab.id).await.1, "the swept message is a tombstone");
    assert!(!content(store, notice.id).await.1, "system messages stay");

    // The server-wide cutoff: everything older, but the held room.
    let cutoff = Some(Timestamp::from_millis(later.as_millis()));
    let first = store.sweep_messages(cutoff, later, 1).await.expect("sweep_messages");
    assert_eq!(first.events.len(), 1, "a batch is at most `limit` messages");
    let rest = store.sweep_messages(cutoff, later, 10).await.expect("sweep_messages");
    assert!(rest.events.is_empty(), "the first batch took the only one: {:?}", rest.events);
    assert!(content(store, old_ac.id).await.1, "the server's retention reaches every conversation");
    assert!(!content(store, old_crew.id).await.1, "but not one under a legal hold");
    let log = store.events_after(ab, Seq::ZERO, 100).await.expect("events_after");
    assert!(log.iter().any(|e| deleted_id(e) == Some(old_ab.id)), "the sweep logs MessageDeleted");

    store.set_legal_hold(crew, false).await.expect("set_legal_hold");
    let released = store.sweep_messages(cutoff, later, 10).await.expect("sweep_messages");
    assert_eq!(released.events.iter().filter_map(deleted_id).collect::<Vec<_>>(), [old_crew.id], "released: swept");
}

fn deleted_id(event: &parlor_core::ConversationEvent) -> Option<MessageId> {
    match event.kind {
        parlor_core::EventKind::MessageDeleted { message_id, .. } => Some(message_id),
        _ => None,
    }
}
