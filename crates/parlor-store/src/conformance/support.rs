//! Helpers the conformance checks share: users, conversations and messages made in one line.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use parlor_core::{
    ConversationEvent, ConversationId, DirectPair, DisplayName, EventKind, Member, Message, MessageBody, NewMessage,
    NewUser, Seq, User, UserId, Username,
};

use crate::{Appended, ConversationFilter, ReadUpTo, Store};

pub(super) fn new_user(username: &str, name: &str) -> NewUser {
    NewUser {
        username: Username::parse(username).expect("valid username"),
        name: display_name(name),
        password_hash: format!("hash-of-{username}"),
    }
}

pub(super) fn display_name(name: &str) -> DisplayName {
    DisplayName::parse(name).expect("valid display name")
}

pub(super) async fn create_user(store: &dyn Store, username: &str, name: &str) -> User {
    store.create_user(new_user(username, name)).await.expect("create_user")
}

pub(super) async fn three_users(store: &dyn Store) -> [User; 3] {
    [
        create_user(store, "alice", "Alice").await,
        create_user(store, "bob", "Bob").await,
        create_user(store, "carol", "Carol").await,
    ]
}

/// True for current members only (former members keep a membership, inactive).
pub(super) async fn is_member(store: &dyn Store, id: ConversationId, user: &User) -> bool {
    store.member_ids(id).await.expect("member_ids").contains(&user.id)
}

pub(super) async fn direct(store: &dyn Store, a: &User, b: &User) -> ConversationId {
    let pair = DirectPair::new(a.id, b.id).expect("distinct users");
    store.get_or_create_direct(pair).await.expect("get_or_create_direct").0
}

/// The conversation's newest event seq, as `Store::last_event_seqs` says it.
pub(super) async fn last_event_seq(store: &dyn Store, id: ConversationId) -> Seq {
    let found = store.last_event_seqs(&[id]).await.expect("last_event_seqs");
    *found.get(&id).expect("an existing conversation has a last event seq")
}

pub(super) fn message_to(conversation_id: ConversationId, sender: &User, content: &str) -> NewMessage {
    NewMessage {
        conversation_id,
        sender_id: sender.id,
        body: MessageBody::parse(content.to_owned(), 4000).expect("valid message body"),
        reply_to: None,
        client_id: None,
        forwarded: false,
        attachment: None,
    }
}

pub(super) async fn append(store: &dyn Store, new: NewMessage) -> Appended {
    store.append_message(new).await.expect("append_message")
}

pub(super) async fn send(store: &dyn Store, conversation: ConversationId, sender: &User, content: &str) -> Message {
    message_of(&append(store, message_to(conversation, sender, content)).await).clone()
}

pub(super) fn message_of(appended: &Appended) -> &Message {
    appended.message().expect("append_message returns a MessageCreated event")
}

pub(super) fn created(event: &ConversationEvent) -> Option<&Message> {
    match &event.kind {
        EventKind::MessageCreated(message) => Some(message),
        _ => None,
    }
}

/// An event as (event seq, kind, message seq it is about), for comparing whole logs at a glance.
pub(super) fn shape(event: &ConversationEvent) -> (i64, &'static str, i64) {
    match &event.kind {
        EventKind::MessageCreated(message) => (event.seq.0, "message", message.seq.0),
        EventKind::MessagesRead { up_to, .. } => (event.seq.0, "read", up_to.0),
        EventKind::MessageEdited(message) => (event.seq.0, "edited", message.seq.0),
        EventKind::MessageDeleted { message_seq, .. } => (event.seq.0, "deleted", message_seq.0),
        EventKind::ReactionChanged { .. } => (event.seq.0, "reaction", 0),
        EventKind::MessagesDelivered { up_to, .. } => (event.seq.0, "delivered", up_to.0),
        EventKind::ConversationUpdated { .. } => (event.seq.0, "updated", 0),
    }
}

pub(super) async fn mark_read(
    store: &dyn Store,
    id: ConversationId,
    user: &User,
    up_to: ReadUpTo,
) -> crate::ReadOutcome {
    store.mark_read(id, user.id, up_to, true).await.expect("mark_read")
}

pub(super) async fn unread(store: &dyn Store, id: ConversationId, user: &User) -> i64 {
    store.overview(id, user.id).await.expect("overview").expect("members get an overview").unread_count()
}

pub(super) async fn unread_counts(store: &dyn Store, user: &User) -> Vec<(ConversationId, i64)> {
    store.unread_counts(user.id).await.expect("unread_counts")
}

pub(super) async fn stored_count(store: &dyn Store, id: ConversationId) -> usize {
    store.messages_before(id, None, 1000).await.expect("messages_before").len()
}

pub(super) async fn search(store: &dyn Store, query: &str, limit: u32) -> Vec<UserId> {
    store.search_users(query, limit, None).await.expect("search_users").iter().map(|u| u.id).collect()
}

pub(super) async fn overview_ids(store: &dyn Store, user: &User, limit: u32) -> Vec<ConversationId> {
    let overviews = store
        .list_overviews(user.id, &ConversationFilter { limit, ..Default::default() })
        .await
        .expect("list_overviews");
    overviews.iter().map(|o| o.conversation.id).collect()
}

pub(super) fn member_ids(members: &[Member]) -> Vec<UserId> {
    sorted(members.iter().map(|m| m.user.id))
}

pub(super) fn sorted(ids: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
    let mut ids: Vec<UserId> = ids.into_iter().collect();
    ids.sort();
    ids
}

pub(super) fn message_seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq.0).collect()
}

pub(super) fn event_seqs(events: &[ConversationEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq.0).collect()
}

/// Stores keep millisecond timestamps; waiting a few lets "more recent" mean strictly later.
pub(super) async fn let_the_clock_tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Polls every future until all are done, within the calling task: the futures borrow the
/// store, so they cannot be spawned, but a backend still sees them all in flight at once.
pub(super) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut all_done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}
