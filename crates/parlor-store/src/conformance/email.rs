//! Conformance checks for email to people who are away: addresses, and which unread
//! notifications a mail has not covered yet.

use parlor_core::{EmailAddress, MessageId, NewNotification, NotificationKind, Timestamp, UserId};

use super::{UNKNOWN, direct, mark_read, send, three_users};
use crate::{NotificationsToRead, ReadUpTo, Store, StoreError, Unmailed};

pub async fn check_email_addresses_and_unmailed_notifications(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let address = EmailAddress::parse("bob@example.com").expect("valid address");
    store.set_email(bob.id, Some(&address)).await.expect("set_email");
    let read = |id: UserId| async move { store.user(id).await.expect("user").expect("exists").email };
    assert_eq!(read(bob.id).await.as_deref(), Some("bob@example.com"), "the address is the user's");
    assert_eq!(read(alice.id).await, None, "nobody else's changes");
    let unknown = store.set_email(UserId(UNKNOWN), Some(&address)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "an unknown user is NotFound, got {unknown:?}");

    let ab = direct(store, &alice, &bob).await;
    let ac = direct(store, &alice, &carol).await;
    let first = send(store, ab, &alice, "one").await;
    let to_carol = send(store, ac, &alice, "carol has no address").await;
    let note = |user: UserId, message: MessageId, kind, id| NewNotification {
        user_id: user,
        kind,
        conversation_id: Some(id),
        message_id: Some(message),
        actor_id: Some(alice.id),
        connection_id: None,
    };
    let made = store.add_notifications(&[note(bob.id, first.id, NotificationKind::Message, ab)]).await.expect("add");
    store.add_notifications(&[note(carol.id, to_carol.id, NotificationKind::Message, ac)]).await.expect("add");
    let before = made[0].created_at;
    let later = Timestamp::from_millis(before.as_millis() + 60_000);
    let unmailed = |at| async move { store.unmailed_notifications(at, 100).await.expect("unmailed_notifications") };

    assert_eq!(unmailed(before).await, [], "only notifications made before the cutoff");
    let due = unmailed(later).await;
    let expected = Unmailed {
        user_id: bob.id,
        email: "bob@example.com".into(),
        conversation_id: ab,
        oldest_at: before,
        after_id: 0,
        newest_id: made[0].id,
        last_mailed_at: None,
    };
    assert_eq!(due, [expected], "users without an address are not listed");

    let mailed_at = Timestamp::from_millis(before.as_millis() + 1);
    store.record_mailed(bob.id, ab, made[0].id, mailed_at).await.expect("record_mailed");
    assert_eq!(unmailed(later).await, [], "a mailed notification is not listed again");

    let second = send(store, ab, &alice, "two").await;
    let mention = send(store, ab, &alice, "@bob three").await;
    let folded = store
        .add_notifications(&[
            note(bob.id, second.id, NotificationKind::Message, ab),
            note(bob.id, mention.id, NotificationKind::Mention, ab),
        ])
        .await
        .expect("add");
    let due = unmailed(later).await;
    assert_eq!(due.len(), 1, "one entry per user and conversation: {due:?}");
    assert_eq!(
        (due[0].after_id, due[0].newest_id, due[0].last_mailed_at),
        (made[0].id, folded[1].id, Some(mailed_at)),
        "newer notifications, after what was mailed, with when it was"
    );
    assert_eq!(due[0].oldest_at, before, "a folded notification keeps its first message's time");

    store.record_mailed(bob.id, ab, folded[1].id, later).await.expect("record_mailed again");
    let third = send(store, ab, &alice, "four").await;
    store.add_notifications(&[note(bob.id, third.id, NotificationKind::Message, ab)]).await.expect("add");
    assert_eq!(unmailed(later).await.len(), 1, "and again after the next message");
    mark_read(store, ab, &bob, ReadUpTo::Latest).await;
    store.mark_notifications_read(bob.id, NotificationsToRead::Conversation(ab)).await.expect("mark read");
    assert_eq!(unmailed(later).await, [], "read notifications are never mailed");

    store.set_email(bob.id, None).await.expect("clear");
    assert_eq!(read(bob.id).await, None, "None clears the address");
}
