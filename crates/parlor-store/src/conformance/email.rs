//! Conformance checks for email to people who are away: addresses, which unread notifications
//! waited out whose delay and no mail has covered yet, and the mail mark's compare-and-set.

use parlor_core::{
    EmailAddress, EmailDelay, MessageId, NewNotification, NotificationKind, NotificationSettings, Timestamp, UserId,
};

use super::{UNKNOWN, direct, mark_read, send, three_users};
use crate::{MailMark, NotificationsToRead, ReadUpTo, Store, StoreError, Unmailed};

const MINUTE: i64 = 60_000;

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
        contact_id: None,
    };
    let made = store.add_notifications(&[note(bob.id, first.id, NotificationKind::Message, ab)]).await.expect("add");
    store.add_notifications(&[note(carol.id, to_carol.id, NotificationKind::Message, ac)]).await.expect("add");
    let before = made[0].created_at;
    // Times after the first notification; the checks below take far less than a minute.
    let at = |ms: i64| Timestamp::from_millis(before.as_millis() + ms);
    let unmailed =
        |now| async move { store.unmailed_notifications(now, MINUTE, 100).await.expect("unmailed_notifications") };

    assert_eq!(unmailed(at(MINUTE - 1)).await, [], "nothing before the server's delay is over");
    let due = unmailed(at(MINUTE)).await;
    let expected = Unmailed {
        user_id: bob.id,
        email: "bob@example.com".into(),
        conversation_id: ab,
        newest_id: made[0].id,
        last_mail: None,
    };
    assert_eq!(due, [expected], "due once the delay is over; users without an address are not listed");

    let own_delay = NotificationSettings {
        email_delay_minutes: Some(EmailDelay::parse(3).expect("delay")),
        ..NotificationSettings::default()
    };
    store.set_notification_settings(bob.id, &own_delay).await.expect("set settings");
    assert_eq!(unmailed(at(3 * MINUTE - 1)).await, [], "the user's own delay replaces the server's");
    assert_eq!(unmailed(at(3 * MINUTE)).await.len(), 1, "and is waited out");
    store.set_notification_settings(bob.id, &NotificationSettings::default()).await.expect("reset settings");

    let first_mail = MailMark { through_id: made[0].id, at: at(MINUTE) };
    let swap = |from, to| async move { store.swap_mail_mark(bob.id, ab, from, to).await.expect("swap_mail_mark") };
    assert!(swap(None, Some(first_mail)).await, "the first claim wins");
    assert!(!swap(None, Some(first_mail)).await, "a second claim of the same mail loses");
    assert_eq!(unmailed(at(10 * MINUTE)).await, [], "a mailed notification is not listed again");

    let second = send(store, ab, &alice, "two").await;
    let mention = send(store, ab, &alice, "@bob three").await;
    let folded = store
        .add_notifications(&[
            note(bob.id, second.id, NotificationKind::Message, ab),
            note(bob.id, mention.id, NotificationKind::Mention, ab),
        ])
        .await
        .expect("add");
    assert_eq!(unmailed(at(2 * MINUTE - 1)).await, [], "one mail per conversation per delay");
    let due = unmailed(at(2 * MINUTE)).await;
    assert_eq!(due.len(), 1, "one entry per user and conversation: {due:?}");
    assert_eq!(
        (due[0].last_mail, due[0].newest_id),
        (Some(first_mail), folded[1].id),
        "newer notifications, after what was mailed"
    );

    let second_mail = MailMark { through_id: folded[1].id, at: at(2 * MINUTE) };
    assert!(swap(Some(first_mail), Some(second_mail)).await, "claimed from the mark that was read");
    assert!(!swap(Some(first_mail), Some(second_mail)).await, "another claim from the same mark loses");
    assert_eq!(unmailed(at(10 * MINUTE)).await, [], "claimed means mailed");
    assert!(swap(Some(second_mail), Some(first_mail)).await, "a failed mail puts the old mark back");
    assert_eq!(unmailed(at(10 * MINUTE)).await[0].last_mail, Some(first_mail), "and is due again");
    assert!(swap(Some(first_mail), None).await, "a mark can be removed");
    assert!(!swap(Some(first_mail), None).await, "only while it holds");
    assert_eq!(unmailed(at(10 * MINUTE)).await[0].last_mail, None, "no mark: never mailed");

    let third = send(store, ab, &alice, "four").await;
    store.add_notifications(&[note(bob.id, third.id, NotificationKind::Message, ab)]).await.expect("add");
    mark_read(store, ab, &bob, ReadUpTo::Latest).await;
    store.mark_notifications_read(bob.id, NotificationsToRead::Conversation(ab)).await.expect("mark read");
    assert_eq!(unmailed(at(10 * MINUTE)).await, [], "read notifications are never mailed");

    store.set_email(bob.id, None).await.expect("clear");
    assert_eq!(read(bob.id).await, None, "None clears the address");
}
