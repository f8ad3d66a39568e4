//! The storage conformance suite: every behaviour a [`Store`] backend must show, written once
//! against the trait so that SQLite and PostgreSQL cannot drift apart.
//!
//! A backend's tests stamp one test per check with [`conformance_tests!`](crate::conformance_tests),
//! handing it an async function that makes an empty store for a check (or `None` to skip):
//!
//! ```ignore
//! async fn fresh(check: &'static str) -> Option<parlor_store::conformance::Fresh> { ... }
//! parlor_store::conformance_tests!(fresh);
//! ```
//!
//! Each `check_*` function runs against its own empty store and panics with a message that names
//! the broken rule; being a test of its own, one failure hides no other.

#![expect(clippy::expect_used, reason = "conformance checks panic to report a broken backend")]

use std::collections::HashMap;

use parlor_core::{
    AvatarUrl, ClientId, ConversationEvent, ConversationId, ConversationOverview, DirectPair, EventKind, ExternalId,
    Message, MessageId, NewMessage, ProfileUpdate, Seq, SessionId, Timestamp, User, UserId,
};

use crate::{Appended, ConversationFilter, ReadUpTo, Rotation, Store, StoreError};

mod attachments;
mod audit;
mod batches;
mod contacts;
mod context;
mod email;
mod exports;
mod lifecycle;
mod maintenance;
mod notify_settings;
mod privacy;
mod receipts;
mod rooms;
mod search;
mod social;
mod support;
mod transcript;
mod webhooks;

use support::*;

pub use attachments::check_attachments;
pub use audit::check_audit_log;
pub use batches::{check_large_batches_keep_order, check_mixed_batches, check_submitted_appends_keep_order};
pub use contacts::{check_contacts, check_user_search_among, check_users_by_ids};
pub use context::check_context_conversations;
pub use email::check_email_addresses_and_unmailed_notifications;
pub use exports::check_exports;
pub use lifecycle::{check_forwarded_messages, check_message_lifecycle, check_reactions, check_reactions_in_pages};
pub use maintenance::{check_backup_and_vacuum, check_export_reads};
pub use notify_settings::{check_notification_settings, check_push_subscriptions};
pub use privacy::{check_erasure_anonymizes_and_holds, check_erasure_deletes, check_retention_sweep};
pub use receipts::{check_delivery_receipts, check_delivery_receipts_in_bulk, check_quiet_receipts};
pub use rooms::{check_a_room_as_it_was, check_membership_changes, check_rooms, check_update_conversation};
pub use search::{
    check_conversation_search, check_message_search, check_search_among_many, check_search_follows_edits_and_deletes,
    check_search_pages, check_search_visibility,
};
pub use social::{
    check_blocks_and_reports, check_call_messages, check_notices, check_notifications, check_presence_data_and_flags,
};
pub use transcript::check_event_chain;
pub use webhooks::{
    check_webhook_deliveries, check_webhook_endpoints, check_webhook_notifications, check_webhook_notifications_erased,
    check_webhook_outbox, check_webhook_pruning, check_webhook_user_deleted,
};

/// An empty store for one check, and whatever must outlive it (its temporary directory or
/// database), dropped when the check ends.
pub struct Fresh {
    pub store: Box<dyn Store>,
    pub keep: Box<dyn std::any::Any + Send>,
}

/// One `#[tokio::test]` per conformance check, each on a store from `$fresh`, an async
/// function of the check's name returning `Option<Fresh>` (`None` skips the check). The one
/// list of every check.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            check_users,
            check_external_users,
            check_refresh_tokens,
            check_direct_conversations,
            check_messages_and_sequences,
            check_idempotent_appends,
            check_concurrent_appends,
            check_read_state,
            check_event_log,
            check_last_event_seqs,
            check_list_overviews,
            check_rooms,
            check_membership_changes,
            check_update_conversation,
            check_a_room_as_it_was,
            check_context_conversations,
            check_contacts,
            check_message_lifecycle,
            check_reactions,
            check_reactions_in_pages,
            check_delivery_receipts,
            check_quiet_receipts,
            check_delivery_receipts_in_bulk,
            check_forwarded_messages,
            check_users_by_ids,
            check_user_search_among,
            check_attachments,
            check_presence_data_and_flags,
            check_blocks_and_reports,
            check_notifications,
            check_notification_settings,
            check_push_subscriptions,
            check_notices,
            check_call_messages,
            check_webhook_endpoints,
            check_webhook_outbox,
            check_webhook_deliveries,
            check_webhook_pruning,
            check_webhook_notifications,
            check_webhook_notifications_erased,
            check_webhook_user_deleted,
            check_email_addresses_and_unmailed_notifications,
            check_message_search,
            check_search_pages,
            check_search_among_many,
            check_search_visibility,
            check_search_follows_edits_and_deletes,
            check_conversation_search,
            check_export_reads,
            check_erasure_deletes,
            check_erasure_anonymizes_and_holds,
            check_retention_sweep,
            check_exports,
            check_backup_and_vacuum,
            check_audit_log,
            check_event_chain,
            check_mixed_batches,
            check_large_batches_keep_order,
            check_submitted_appends_keep_order,
            check_closed_store_is_unavailable,
        );
    };
    (@each $fresh:path; $($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let Some(fresh) = $fresh(stringify!($check)).await else { return };
            $crate::conformance::$check(fresh.store.as_ref()).await;
            fresh.store.close().await;
            drop(fresh.keep);
        }
    )*};
}

/// An id no store hands out in these checks.
const UNKNOWN: i64 = i64::MAX;

pub async fn check_users(store: &dyn Store) {
    let alice = create_user(store, "alice", "Alice Liddell").await;
    assert_eq!(alice.username.as_deref(), Some("alice"), "create_user returns the username");
    assert_eq!(alice.name, "Alice Liddell", "create_user returns the name");
    assert_eq!((alice.avatar.as_deref(), alice.external_id.as_deref()), (None, None), "no avatar or external id yet");

    let taken = store.create_user(new_user("ALICE", "Another Alice")).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict("username"))),
        "usernames are unique ignoring case, got {taken:?}"
    );

    let bob = create_user(store, "bbuilder", "Bob").await;
    let carol = create_user(store, "carol", "Carol").await;
    assert_ne!(alice.id, bob.id, "users get distinct ids");

    assert_eq!(store.user(alice.id).await.expect("user"), Some(alice.clone()), "user(id) finds the user");
    assert_eq!(store.user(UserId(UNKNOWN)).await.expect("user"), None, "user(unknown id) is None");

    let (found, hash) =
        store.credentials("ALICE").await.expect("credentials").expect("credentials match the username ignoring case");
    assert_eq!((found.id, hash.as_str()), (alice.id, "hash-of-alice"), "credentials return the user and their hash");
    assert!(store.credentials("nobody").await.expect("credentials").is_none(), "credentials(unknown) is None");

    assert_eq!(search(store, "LIDDELL", 10).await, [alice.id], "search matches part of a name, ignoring case");
    assert_eq!(search(store, "BUILD", 10).await, [bob.id], "search matches part of a username, ignoring case");
    assert_eq!(search(store, "zebra", 10).await, [], "search matches no one else");
    assert_eq!(search(store, "l", 10).await, [alice.id, bob.id, carol.id], "search results are ordered by name");
    assert_eq!(search(store, "l", 2).await, [alice.id, bob.id], "search honours its limit");

    let avatar = AvatarUrl::parse("https://cdn.example/alice.png").expect("valid avatar");
    let change =
        ProfileUpdate { name: Some(display_name("Alice L.")), avatar: Some(Some(avatar)), hide_last_seen: None };
    let changed = store.update_profile(alice.id, &change).await.expect("update_profile");
    assert_eq!(changed.name, "Alice L.", "update_profile changes the name");
    assert_eq!(changed.avatar.as_deref(), Some("https://cdn.example/alice.png"), "update_profile sets the avatar");
    assert_eq!(store.user(alice.id).await.expect("user"), Some(changed.clone()), "profile changes are stored");

    let unchanged = store.update_profile(alice.id, &ProfileUpdate::default()).await.expect("update_profile");
    assert_eq!(unchanged, changed, "an empty ProfileUpdate changes nothing");

    let clear = ProfileUpdate { name: None, avatar: Some(None), hide_last_seen: None };
    let cleared = store.update_profile(alice.id, &clear).await.expect("update_profile");
    assert_eq!(cleared.avatar, None, "avatar Some(None) clears the avatar");
    assert_eq!(cleared.name, "Alice L.", "a ProfileUpdate without a name keeps the name");

    let missing = store.update_profile(UserId(UNKNOWN), &clear).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "updating an unknown user is NotFound, got {missing:?}");
}

pub async fn check_external_users(store: &dyn Store) {
    let sub = ExternalId::parse("host-42").expect("valid external id");
    let first = store.upsert_external_user(&sub, Some(&display_name("Host Person")), None).await.expect("upsert");
    assert_eq!(first.username, None, "external users have no username");
    assert_eq!(first.external_id.as_deref(), Some("host-42"), "external users keep their external id");
    assert_eq!(first.name, "Host Person", "the first upsert stores the name");

    let again = store.upsert_external_user(&sub, Some(&display_name("Host Person")), None).await.expect("upsert");
    assert_eq!(again, first, "a second upsert finds the same user");

    let avatar = AvatarUrl::parse("https://host.example/42.png").expect("valid avatar");
    let new_name = display_name("Host P.");
    let renamed = store.upsert_external_user(&sub, Some(&new_name), Some(&avatar)).await.expect("upsert");
    assert_eq!(renamed.id, first.id, "an upsert with new details keeps the id");
    assert_eq!(renamed.name, "Host P.", "an upsert with a different name updates it");
    assert_eq!(renamed.avatar.as_deref(), Some("https://host.example/42.png"), "an upsert sets a given avatar");

    let kept = store.upsert_external_user(&sub, None, None).await.expect("upsert");
    assert_eq!(kept, renamed, "an upsert without name or avatar keeps both");
    assert_eq!(store.user(first.id).await.expect("user"), Some(kept), "upserted details are stored");

    let other_sub = ExternalId::parse("host-43").expect("valid external id");
    let other = store.upsert_external_user(&other_sub, Some(&display_name("Other")), None).await.expect("upsert");
    assert_ne!(other.id, first.id, "different external ids are different users");
}

pub async fn check_refresh_tokens(store: &dyn Store) {
    let alice = create_user(store, "alice", "Alice").await;
    let bob = create_user(store, "bob", "Bob").await;
    let (phone, laptop) = (SessionId(11), SessionId(12));
    let now = Timestamp::now();
    let expires_at = now.plus_secs(3600);
    store.insert_refresh_token(b"phone-1", alice.id, phone, expires_at).await.expect("insert_refresh_token");
    store.insert_refresh_token(b"laptop-1", alice.id, laptop, expires_at).await.expect("insert_refresh_token");
    store.insert_refresh_token(b"bob-1", bob.id, phone, expires_at).await.expect("insert_refresh_token");
    assert!(store.session_live(alice.id, phone).await.expect("session_live"), "a new session is live");

    let rotate = |old: &'static [u8], next: &'static [u8]| async move {
        store.rotate_refresh_token(old, next, Timestamp::now(), expires_at).await.expect("rotate_refresh_token")
    };
    assert_eq!(rotate(b"phone-1", b"phone-2").await, Rotation::Rotated { user: alice.id, session: phone });
    assert!(store.session_live(alice.id, phone).await.expect("session_live"), "its next token keeps it live");
    assert_eq!(rotate(b"phone-2", b"phone-3").await, Rotation::Rotated { user: alice.id, session: phone });
    assert_eq!(rotate(b"never-issued", b"x").await, Rotation::Invalid, "an unknown token is Invalid");

    // A spent token presented again: the whole family goes, its newest token included.
    assert_eq!(rotate(b"phone-1", b"phone-x").await, Rotation::Reused { user: alice.id, session: phone });
    assert!(!store.session_live(alice.id, phone).await.expect("session_live"), "a reused session is revoked");
    assert_eq!(rotate(b"phone-3", b"phone-4").await, Rotation::Invalid, "its newest token is revoked");
    assert_eq!(rotate(b"phone-x", b"phone-5").await, Rotation::Invalid, "nothing was stored for the reuse");
    assert_eq!(rotate(b"phone-1", b"phone-6").await, Rotation::Invalid, "revoked once; then simply unknown");
    // Other sessions, of the same user and of another with the same session number, stay.
    assert!(store.session_live(alice.id, laptop).await.expect("session_live"));
    assert_eq!(rotate(b"laptop-1", b"laptop-2").await, Rotation::Rotated { user: alice.id, session: laptop });
    assert_eq!(rotate(b"bob-1", b"bob-2").await, Rotation::Rotated { user: bob.id, session: phone });

    let old = now.plus_secs(-60);
    store.insert_refresh_token(b"expired", alice.id, SessionId(13), old).await.expect("insert_refresh_token");
    assert_eq!(rotate(b"expired", b"expired-2").await, Rotation::Invalid, "an expired token is Invalid");
    store.insert_refresh_token(b"stale", alice.id, SessionId(14), old).await.expect("insert_refresh_token");
    let pruned = store.prune_refresh_tokens(Timestamp::now()).await.expect("prune_refresh_tokens");
    assert_eq!(pruned, 1, "only the expired token is pruned");
    assert_eq!(rotate(b"laptop-2", b"laptop-3").await, Rotation::Rotated { user: alice.id, session: laptop });
}

pub async fn check_direct_conversations(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let pair = DirectPair::new(alice.id, bob.id).expect("distinct users");
    let (id, created) = store.get_or_create_direct(pair).await.expect("get_or_create_direct");
    assert!(created, "the first get_or_create_direct creates the conversation");
    let again = store.get_or_create_direct(pair).await.expect("get_or_create_direct");
    assert_eq!(again, (id, false), "the second call finds the same conversation");
    let reversed = DirectPair::new(bob.id, alice.id).expect("distinct users");
    let found = store.get_or_create_direct(reversed).await.expect("get_or_create_direct");
    assert_eq!(found, (id, false), "the reversed pair names the same conversation");
    assert_ne!(direct(store, &alice, &carol).await, id, "another pair gets another conversation");

    let mut members = store.member_ids(id).await.expect("member_ids");
    members.sort();
    assert_eq!(members, sorted([alice.id, bob.id]), "both users are members");
    assert!(is_member(store, id, &alice).await, "alice is a member");
    assert!(is_member(store, id, &bob).await, "bob is a member");
    assert!(!is_member(store, id, &carol).await, "carol is not a member");

    assert!(store.overview(id, carol.id).await.expect("overview").is_none(), "outsiders get no overview");
    let unknown = store.overview(ConversationId(UNKNOWN), alice.id).await.expect("overview");
    assert!(unknown.is_none(), "an unknown conversation has no overview");
    let overview = store.overview(id, alice.id).await.expect("overview").expect("members get an overview");
    assert_eq!(overview.conversation.id, id, "the overview is of the asked conversation");
    assert_eq!(member_ids(&overview.members), sorted([alice.id, bob.id]), "the overview lists both members");
    assert!(overview.last_message.is_none(), "a new conversation has no last message");
    assert_eq!(overview.conversation.last_message_seq, Seq::ZERO, "a new conversation has no messages");
}

pub async fn check_messages_and_sequences(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;

    let mut appended = Vec::new();
    for n in 1..=5 {
        let sender = if n % 2 == 1 { &alice } else { &bob };
        appended.push(append(store, message_to(ab, sender, &format!("message {n}"))).await);
    }
    let sent: Vec<Message> = appended.iter().map(|a| message_of(a).clone()).collect();
    assert_eq!(message_seqs(&sent), [1, 2, 3, 4, 5], "message seqs count 1, 2, 3... without gaps");
    let events: Vec<ConversationEvent> = appended.iter().map(|a| a.event.clone()).collect();
    assert_eq!(event_seqs(&events), [1, 2, 3, 4, 5], "event seqs count 1, 2, 3... without gaps");

    let newest = store.messages_before(ab, None, 2).await.expect("messages_before");
    assert_eq!(message_seqs(&newest), [5, 4], "messages_before(None) starts at the newest");
    let older = store.messages_before(ab, Some(Seq(4)), 10).await.expect("messages_before");
    assert_eq!(message_seqs(&older), [3, 2, 1], "messages_before(seq) returns older messages, newest first");

    let stored = store.message(sent[0].id).await.expect("message").expect("message(id) finds the message");
    assert_eq!((stored.content.as_str(), stored.sender_name.as_str()), ("message 1", "Alice"), "message(id) content");
    assert_eq!(stored, sent[0], "message(id) returns the message as append_message did");
    assert_eq!(store.message(MessageId(UNKNOWN)).await.expect("message"), None, "message(unknown id) is None");

    let outsider = store.append_message(message_to(ab, &carol, "let me in")).await;
    assert!(matches!(outsider, Err(StoreError::NotFound)), "non-members cannot send, got {outsider:?}");

    let reply = append(store, NewMessage { reply_to: Some(sent[1].id), ..message_to(ab, &alice, "replying") }).await;
    let preview = message_of(&reply).reply_to.clone().expect("a reply carries a preview of what it quotes");
    assert_eq!((preview.id, preview.sender_id), (sent[1].id, bob.id), "the preview names the quoted message");
    assert_eq!(preview.content, "message 2", "the preview shows the quoted text");

    let elsewhere = send(store, ac, &carol, "elsewhere").await;
    for bad in [elsewhere.id, MessageId(UNKNOWN)] {
        let result = store.append_message(NewMessage { reply_to: Some(bad), ..message_to(ab, &alice, "bad") }).await;
        assert!(
            matches!(result, Err(StoreError::InvalidReference("reply_to"))),
            "reply_to must be a message of the same conversation, got {result:?}"
        );
    }

    let after = append(store, message_to(ab, &bob, "after the failures")).await;
    assert_eq!((message_of(&after).seq, after.event.seq), (Seq(7), Seq(7)), "failed appends use up no seqs");

    let rename = ProfileUpdate { name: Some(display_name("Robert")), avatar: None, hide_last_seen: None };
    store.update_profile(bob.id, &rename).await.expect("update_profile");
    let renamed = store.message(sent[1].id).await.expect("message").expect("message exists");
    assert_eq!(renamed.sender_name, "Robert", "messages show the sender's current name");
}

pub async fn check_idempotent_appends(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let keyed = |conversation, sender: &User| NewMessage {
        client_id: Some(ClientId::parse("retry-1").expect("valid client id")),
        ..message_to(conversation, sender, "hello once")
    };

    let first = append(store, keyed(ab, &alice)).await;
    assert!(!first.duplicate, "a new client_id is not a duplicate");
    assert_eq!(message_of(&first).client_id.as_deref(), Some("retry-1"), "the message keeps its client_id");
    let retry = append(store, keyed(ab, &alice)).await;
    assert!(retry.duplicate, "a repeated client_id from the same sender is a duplicate");
    assert_eq!(message_of(&retry).id, message_of(&first).id, "a duplicate returns the original message");
    assert_eq!(retry.event.seq, first.event.seq, "a duplicate returns the original event");
    assert_eq!(stored_count(store, ab).await, 1, "a duplicate stores nothing");
    assert_eq!(last_event_seq(store, ab).await, Seq(1), "a duplicate logs nothing");

    let from_bob = append(store, keyed(ab, &bob)).await;
    assert!(!from_bob.duplicate, "client_ids are per sender");
    assert_ne!(message_of(&from_bob).id, message_of(&first).id, "another sender's key stores a new message");
    let other_conversation = append(store, keyed(ac, &alice)).await;
    assert!(!other_conversation.duplicate, "client_ids are per conversation");
    assert_eq!(stored_count(store, ab).await, 2, "the other sender's message is stored");
}

pub async fn check_concurrent_appends(store: &dyn Store) {
    const SENDS: i64 = 50;
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;

    let sends = (0..SENDS).map(|n| {
        let sender = if n % 2 == 0 { &alice } else { &bob };
        store.append_message(message_to(ab, sender, &format!("burst {n}")))
    });
    let results = join_all(sends.collect()).await;
    let appended: Vec<Appended> = results.into_iter().map(|r| r.expect("concurrent append_message")).collect();

    let all: Vec<i64> = (1..=SENDS).collect();
    let mut seqs: Vec<i64> = appended.iter().map(|a| message_of(a).seq.0).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, all, "concurrent senders get message seqs 1..={SENDS}, each once");

    let events = store.events_after(ab, Seq::ZERO, 100).await.expect("events_after");
    assert_eq!(event_seqs(&events), all, "the event log is gap-free and ordered under concurrent senders");
    let logged: Vec<i64> = events.iter().filter_map(|e| created(e).map(|m| m.seq.0)).collect();
    assert_eq!(logged, all, "the log records messages in seq order");
    assert_eq!(stored_count(store, ab).await, SENDS as usize, "every concurrent message is stored");
}

pub async fn check_read_state(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(send(store, ab, &bob, &format!("unread {n}")).await);
    }
    let bc = direct(store, &bob, &carol).await;
    let foreign = send(store, bc, &carol, "not alice's").await;

    assert_eq!(unread(store, ab, &alice).await, 3, "the recipient has every message unread");
    assert_eq!(unread_counts(store, &alice).await, [(ab, 3)], "unread_counts lists the conversation");
    assert_eq!(unread(store, ab, &bob).await, 0, "senders never have their own messages unread");
    assert!(!unread_counts(store, &bob).await.iter().any(|(id, _)| *id == ab), "the sender's unread_counts skip it");

    let ignored = mark_read(store, ab, &alice, ReadUpTo::Messages(vec![foreign.id])).await;
    assert_eq!((ignored.last_read_seq, ignored.event), (Seq::ZERO, None), "other conversations' ids are ignored");

    let second = mark_read(store, ab, &alice, ReadUpTo::Messages(vec![sent[1].id])).await;
    assert_eq!((second.last_read_seq, second.unread_count), (Seq(2), 1), "marking message 2 reads up to it");
    let event = second.event.expect("moving the read position logs an event");
    assert_eq!((event.conversation_id, event.seq), (ab, Seq(4)), "the read event follows the message events");
    assert!(
        matches!(event.kind, EventKind::MessagesRead { user_id, up_to: Seq(2), .. } if user_id == alice.id),
        "the event says who read how far, got {:?}",
        event.kind
    );
    assert_eq!(unread(store, ab, &alice).await, 1, "the overview counts from the read position");
    assert_eq!(unread_counts(store, &alice).await, [(ab, 1)], "unread_counts counts from the read position");

    let backwards = mark_read(store, ab, &alice, ReadUpTo::Messages(vec![sent[0].id])).await;
    assert_eq!((backwards.last_read_seq, backwards.unread_count), (Seq(2), 1), "read positions never move back");
    assert!(backwards.event.is_none(), "a mark that moves nothing logs nothing");

    let latest = mark_read(store, ab, &alice, ReadUpTo::Latest).await;
    assert_eq!((latest.last_read_seq, latest.unread_count), (Seq(3), 0), "Latest reads everything");
    assert!(latest.event.is_some(), "reading to the latest logs an event");
    assert_eq!(unread_counts(store, &alice).await, [], "nothing unread leaves unread_counts empty");
    assert!(mark_read(store, ab, &alice, ReadUpTo::Latest).await.event.is_none(), "a repeated Latest logs nothing");

    let outsider = store.mark_read(ab, carol.id, ReadUpTo::Latest, true).await;
    assert!(matches!(outsider, Err(StoreError::NotFound)), "non-members cannot mark read, got {outsider:?}");

    let events = store.events_after(ab, Seq::ZERO, 100).await.expect("events_after");
    let expected = [(1, "message", 1), (2, "message", 2), (3, "message", 3), (4, "read", 2), (5, "read", 3)];
    assert_eq!(events.iter().map(shape).collect::<Vec<_>>(), expected, "read events interleave, gap-free");

    send(store, ab, &bob, "one more").await;
    assert_eq!(unread(store, ab, &alice).await, 1, "a new message is unread");
    let reply = send(store, ab, &alice, "caught up").await;
    let overview = store.overview(ab, alice.id).await.expect("overview").expect("member overview");
    assert_eq!(overview.last_read_seq, reply.seq, "sending moves the sender's read position to their message");
}

pub async fn check_event_log(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    assert_eq!(last_event_seq(store, ab).await, Seq::ZERO, "a new log is empty");
    assert_eq!(store.events_after(ab, Seq::ZERO, 10).await.expect("events_after"), [], "a new log is empty");

    let mut appended = Vec::new();
    for n in 1..=5 {
        appended.push(append(store, message_to(ab, &alice, &format!("logged {n}"))).await);
    }
    let events = store.events_after(ab, Seq::ZERO, 100).await.expect("events_after");
    let returned: Vec<ConversationEvent> = appended.iter().map(|a| a.event.clone()).collect();
    assert_eq!(events, returned, "the log holds exactly the events append_message returned");
    for (event, a) in events.iter().zip(&appended) {
        let stored = store.message(message_of(a).id).await.expect("message").expect("message exists");
        assert_eq!(created(event), Some(&stored), "MessageCreated events carry the full message");
    }

    let page = store.events_after(ab, Seq(2), 2).await.expect("events_after");
    assert_eq!(event_seqs(&page), [3, 4], "events_after returns seq > after, ascending, at most limit");
    let tail = store.events_after(ab, Seq(4), 10).await.expect("events_after");
    assert_eq!(event_seqs(&tail), [5], "events_after stops at the newest");
    assert_eq!(store.events_after(ab, Seq(5), 10).await.expect("events_after"), [], "nothing after the newest");
    assert_eq!(last_event_seq(store, ab).await, Seq(5), "last_event_seq is the newest");

    let ac = direct(store, &alice, &carol).await;
    send(store, ac, &carol, "separate log").await;
    let other = store.events_after(ac, Seq::ZERO, 10).await.expect("events_after");
    assert_eq!(event_seqs(&other), [1], "each conversation numbers its own log");
    assert_eq!(last_event_seq(store, ab).await, Seq(5), "other logs leave this one alone");
}

/// The bus's repair asks for many conversations' newest event seq at once.
pub async fn check_last_event_seqs(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let (ab, ac, bc) =
        (direct(store, &alice, &bob).await, direct(store, &alice, &carol).await, direct(store, &bob, &carol).await);
    for n in 1..=3 {
        send(store, ab, &bob, &format!("seq {n}")).await;
    }
    send(store, ac, &carol, "one").await;
    let unknown = ConversationId(UNKNOWN);
    let found = store.last_event_seqs(&[ab, ac, bc, unknown, ab]).await.expect("last_event_seqs");
    let expected = HashMap::from([(ab, Seq(3)), (ac, Seq(1)), (bc, Seq::ZERO)]);
    assert_eq!(found, expected, "each conversation's newest seq, 0 without events, unknown ids absent");
    assert_eq!(store.last_event_seqs(&[]).await.expect("last_event_seqs"), HashMap::new(), "no ids, no answer");

    // A chunk as large as the repair's, mostly unknown ids, is one statement that still answers.
    let mut chunk: Vec<ConversationId> = (1..=497).map(|n| ConversationId(UNKNOWN - n)).collect();
    chunk.extend([bc, ac, ab]);
    let found = store.last_event_seqs(&chunk).await.expect("last_event_seqs of 500 ids");
    assert_eq!(found, expected, "500 ids at once");
}

pub async fn check_list_overviews(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    send(store, ab, &bob, "hi alice").await;
    let_the_clock_tick().await;
    send(store, ac, &carol, "hey").await;
    let_the_clock_tick().await;
    assert_eq!(overview_ids(store, &alice, 10).await, [ac, ab], "the most recent activity comes first");

    send(store, ab, &alice, "back to bob").await;
    let overviews = store
        .list_overviews(alice.id, &ConversationFilter { limit: 10, ..Default::default() })
        .await
        .expect("list_overviews");
    let ids: Vec<ConversationId> = overviews.iter().map(|o| o.conversation.id).collect();
    assert_eq!(ids, [ab, ac], "a new message moves the older conversation to the front");
    let last = |i: usize| overviews[i].last_message.as_ref().map(|m| m.content.as_str());
    assert_eq!((last(0), last(1)), (Some("back to bob"), Some("hey")), "overviews carry the last message");
    assert_eq!(member_ids(&overviews[0].members), sorted([alice.id, bob.id]), "overviews carry the members");
    assert_eq!(member_ids(&overviews[1].members), sorted([alice.id, carol.id]), "overviews carry the members");
    assert_eq!(overviews[1].unread_count(), 1, "overviews carry the reader's position");

    assert_eq!(overview_ids(store, &alice, 1).await, [ab], "list_overviews honours its limit");
    let position = |o: &ConversationOverview| crate::ListPosition {
        last_activity_at: o.conversation.last_activity_at,
        id: o.conversation.id,
    };
    let page = |after| async move {
        let filter = ConversationFilter { after: Some(after), limit: 10, ..Default::default() };
        let found = store.list_overviews(alice.id, &filter).await.expect("list_overviews");
        found.iter().map(|o| o.conversation.id).collect::<Vec<_>>()
    };
    assert_eq!(page(position(&overviews[0])).await, [ac], "a page continues after the position it is given");
    assert_eq!(page(position(&overviews[1])).await, [], "and ends after the last");
    let tie = crate::ListPosition {
        last_activity_at: overviews[1].conversation.last_activity_at,
        id: ConversationId(i64::MAX),
    };
    assert_eq!(page(tie).await, [ac], "equal activity times are ordered by id, highest first");
    assert_eq!(overview_ids(store, &bob, 10).await, [ab], "users see only their own conversations");
}

/// Closes the store itself (closing it again after the check changes nothing).
pub async fn check_closed_store_is_unavailable(store: &dyn Store) {
    let alice = create_user(store, "alice", "Alice").await;
    assert!(store.ping().await.is_ok(), "an open store answers a ping");
    store.close().await;
    let ping = store.ping().await;
    assert!(matches!(ping, Err(StoreError::Unavailable)), "a ping after close is Unavailable, got {ping:?}");
    let read = store.user(alice.id).await;
    assert!(matches!(read, Err(StoreError::Unavailable)), "reads after close are Unavailable, got {read:?}");
    let write = store.create_user(new_user("bob", "Bob")).await;
    assert!(matches!(write, Err(StoreError::Unavailable)), "writes after close are Unavailable, got {write:?}");
}
