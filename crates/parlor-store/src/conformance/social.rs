//! Checks for presence data, blocks, reports, admin flags, mute, notifications and notices.

use parlor_core::{MessageBody, MessageKind, NewNotification, NotificationKind, Timestamp, UserId};

use super::rooms::room;
use super::{direct, send, three_users};
use crate::{NewRoom, NotificationFilter, NotificationsToRead, Store, StoreError, UserFlags};

pub async fn check_presence_data_and_flags(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    direct(store, &alice, &bob).await;
    let at = Timestamp::from_millis(1_700_000_000_000);
    store.touch_last_seen(&[(alice.id, at), (bob.id, at)]).await.expect("touch_last_seen");
    store.touch_last_seen(&[(alice.id, Timestamp::from_millis(5))]).await.expect("touch_last_seen");
    let seen = store.user(alice.id).await.expect("user").expect("alice exists");
    assert_eq!(seen.last_seen_at, Some(at), "last_seen_at never moves back");

    let mut contacts = store.conversation_partners(alice.id).await.expect("conversation partners");
    contacts.sort();
    assert_eq!(contacts, vec![bob.id], "contacts are people sharing a conversation, not oneself");
    assert!(store.share_conversation(alice.id, bob.id).await.expect("share"));
    assert!(!store.share_conversation(alice.id, carol.id).await.expect("share"));

    // Presence goes to members of small conversations only, never across a block.
    let audience = |user: UserId, max: u32| async move {
        let mut found = store.presence_audience(user, max).await.expect("presence_audience");
        found.sort();
        found
    };
    assert_eq!(audience(alice.id, 2).await, vec![bob.id], "a direct conversation counts");
    let room = room(store, &alice, &[&bob, &carol]).await;
    assert_eq!(audience(alice.id, 2).await, vec![bob.id], "a room of 3 is over a limit of 2");
    assert_eq!(audience(alice.id, 3).await, vec![bob.id, carol.id], "and within a limit of 3");
    assert!(audience(carol.id, 2).await.is_empty(), "carol shares only the big room");
    store.set_block(carol.id, alice.id, true).await.expect("block");
    assert_eq!(audience(alice.id, 3).await, vec![bob.id], "a block hides the blocker");
    assert_eq!(audience(carol.id, 3).await, vec![bob.id], "and the blocked, both ways");
    store.set_block(carol.id, alice.id, false).await.expect("unblock");
    store.change_members(room, carol.id, crate::MemberChange::Leave).await.expect("leave");
    assert_eq!(audience(bob.id, 3).await, vec![alice.id], "former members are not told");

    let flagged = store
        .set_user_flags(carol.id, &UserFlags { admin: Some(true), disabled: Some(true) })
        .await
        .expect("set_user_flags");
    assert!(flagged.is_admin && flagged.disabled);
    let back = store.set_user_flags(carol.id, &UserFlags { admin: None, disabled: Some(false) }).await.expect("flags");
    assert!(back.is_admin && !back.disabled, "None leaves a flag as it is");
    assert!(matches!(store.set_user_flags(UserId(987_654), &UserFlags::default()).await, Err(StoreError::NotFound)));
    assert!(store.user(UserId::SYSTEM).await.expect("user").is_none(), "the system user cannot be looked up");
    let host = parlor_core::ExternalId::parse("host-7").expect("external id");
    assert!(store.user_by_external_id(&host).await.expect("lookup").is_none(), "lookup does not create");
    let created = store.upsert_external_user(&host, None, None).await.expect("upsert");
    assert_eq!(store.user_by_external_id(&host).await.expect("lookup").map(|u| u.id), Some(created.id));
    let by_name = store.users_by_usernames(&["ALICE".into(), "nobody".into()]).await.expect("by usernames");
    assert_eq!(by_name.iter().map(|u| u.id).collect::<Vec<_>>(), vec![alice.id], "case-insensitive, unknown skipped");
    let found = store.search_users("System", 10, None).await.expect("search");
    assert!(found.iter().all(|u| u.id != UserId::SYSTEM), "nor found by name");
}

pub async fn check_blocks_and_reports(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    assert!(store.set_block(alice.id, bob.id, true).await.expect("block"));
    assert!(!store.set_block(alice.id, bob.id, true).await.expect("block twice"), "blocking twice changes nothing");
    assert!(store.blocked_between(bob.id, alice.id).await.expect("between"), "either direction");
    assert!(!store.blocked_between(bob.id, carol.id).await.expect("between"));
    assert_eq!(store.blocked_by(alice.id).await.expect("blocked_by"), vec![bob.id]);
    assert!(store.blocked_by(bob.id).await.expect("blocked_by").is_empty());
    assert_eq!(store.block_partners(bob.id).await.expect("partners"), vec![alice.id]);
    assert!(matches!(store.set_block(alice.id, UserId(987_654), true).await, Err(StoreError::NotFound)));
    assert!(store.set_block(alice.id, bob.id, false).await.expect("unblock"));
    assert!(!store.blocked_between(alice.id, bob.id).await.expect("between"));

    let dm = direct(store, &alice, &carol).await;
    let message = send(store, dm, &carol, "rude").await;
    let report = store.report_message(message.id, alice.id, "spam").await.expect("report");
    assert_eq!((report.message_id, report.reporter_id, report.reason.as_str()), (message.id, alice.id, "spam"));
    assert!(matches!(store.report_message(message.id, alice.id, "again").await, Err(StoreError::Conflict("report"))));
    assert_eq!(store.reports(10).await.expect("reports"), vec![report]);
}

pub async fn check_notifications(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let dm = direct(store, &alice, &bob).await;
    let first = send(store, dm, &alice, "one").await;
    let second = send(store, dm, &alice, "two").await;
    let about = |message: parlor_core::MessageId, kind| NewNotification {
        user_id: bob.id,
        kind,
        conversation_id: Some(dm),
        message_id: Some(message),
        actor_id: Some(alice.id),
        contact_id: None,
    };
    let stored = store.add_notifications(&[about(first.id, NotificationKind::Message)]).await.expect("add");
    assert_eq!((stored[0].count, stored[0].preview.as_str(), stored[0].read), (1, "one", false));
    assert_eq!(stored[0].actor_name.as_deref(), Some("Alice"));
    let folded = store.add_notifications(&[about(second.id, NotificationKind::Message)]).await.expect("add");
    assert_ne!(folded[0].id, stored[0].id, "a folded notification lists as the newest");
    assert_eq!((folded[0].count, folded[0].message_id), (2, Some(second.id)), "unread ones fold per conversation");
    assert_eq!(folded[0].created_at, stored[0].created_at, "and keep when they started");
    // Notifications are made in the background: an older message may arrive after a newer one.
    let late = store.add_notifications(&[about(first.id, NotificationKind::Message)]).await.expect("add");
    assert_eq!((late[0].count, late[0].message_id), (3, Some(second.id)), "the newest message stays shown");
    assert_eq!(late[0].preview, "two");
    let folded = late;
    let mention = store.add_notifications(&[about(second.id, NotificationKind::Mention)]).await.expect("add");
    assert_ne!(mention[0].id, folded[0].id, "mentions stand alone");

    let all = store.notifications(bob.id, &NotificationFilter { limit: 10, ..Default::default() }).await.expect("list");
    assert_eq!(all.iter().map(|n| n.id).collect::<Vec<_>>(), vec![mention[0].id, folded[0].id], "newest first");
    let page = NotificationFilter { before: Some(mention[0].id), limit: 10, ..Default::default() };
    assert_eq!(store.notifications(bob.id, &page).await.expect("page").len(), 1);
    assert!(store.notifications(alice.id, &page).await.expect("others").is_empty(), "only one's own");
    assert_eq!(store.unread_notification_count(bob.id).await.expect("count"), 2);
    assert!(store.has_unread_notifications(bob.id, dm).await.expect("has"));
    assert!(!store.has_unread_notifications(alice.id, dm).await.expect("has"));

    assert_eq!(
        store.mark_notifications_read(alice.id, NotificationsToRead::One(mention[0].id)).await.expect("mark"),
        0
    );
    assert_eq!(store.mark_notifications_read(bob.id, NotificationsToRead::One(mention[0].id)).await.expect("mark"), 1);
    assert_eq!(store.mark_notifications_read(bob.id, NotificationsToRead::Conversation(dm)).await.expect("mark"), 1);
    assert_eq!(store.unread_notification_count(bob.id).await.expect("count"), 0);
    let again = store.add_notifications(&[about(second.id, NotificationKind::Message)]).await.expect("add");
    assert_ne!(again[0].id, folded[0].id, "a read notification is not folded into");
    assert_eq!(store.mark_notifications_read(bob.id, NotificationsToRead::All).await.expect("mark"), 1);
    let unread = NotificationFilter { unread_only: true, limit: 10, ..Default::default() };
    assert!(store.notifications(bob.id, &unread).await.expect("list").is_empty());

    store.delete_message(second.id).await.expect("delete");
    let listed =
        store.notifications(bob.id, &NotificationFilter { limit: 1, ..Default::default() }).await.expect("list");
    assert_eq!(listed[0].preview, "", "a deleted message previews as nothing");

    store.set_muted(dm, bob.id, true).await.expect("mute");
    assert_eq!(store.muted_members(dm).await.expect("muted"), vec![bob.id]);
    assert!(store.membership(dm, bob.id).await.expect("membership").expect("member").muted);
    assert!(matches!(store.set_muted(dm, carol.id, true).await, Err(StoreError::NotFound)), "members only");
    store.set_muted(dm, bob.id, false).await.expect("unmute");
    assert!(store.muted_members(dm).await.expect("muted").is_empty());
}

pub async fn check_call_messages(store: &dyn Store) {
    use parlor_core::{CallMedia, CallOutcome, CallRecord};
    let [alice, bob, _] = three_users(store).await;
    let pair = parlor_core::DirectPair::new(alice.id, bob.id).expect("pair");
    let (dm, _) = store.get_or_create_direct(pair).await.expect("direct");
    let record = CallRecord {
        media: CallMedia::Video,
        outcome: CallOutcome::Answered,
        duration_secs: 75,
        participants: vec![alice.id, bob.id],
    };
    let appended = store.append_call(dm, alice.id, &record).await.expect("append_call");
    let message = appended.message().expect("a message").clone();
    assert_eq!((message.sender_id, message.content.as_str()), (alice.id, "📞 Video call · 1:15"));
    let history = store.messages_before(dm, None, 1).await.expect("history");
    assert_eq!(history[0].kind, MessageKind::Call(record.clone()), "read back as written");
    let missed = CallRecord {
        media: CallMedia::Voice,
        outcome: CallOutcome::Missed,
        duration_secs: 0,
        participants: vec![bob.id],
    };
    store.append_call(dm, bob.id, &missed).await.expect("append_call");
    let history = store.messages_before(dm, None, 2).await.expect("history");
    assert_eq!(history[0].kind, MessageKind::Call(missed));
    let unread = store.unread_counts(alice.id).await.expect("unread");
    assert_eq!(unread, vec![(dm, 1)], "a call message counts as unread like any other");
    assert!(matches!(
        store.append_call(parlor_core::ConversationId(987_654), alice.id, &record).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn check_notices(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let room = NewRoom {
        creator: alice.id,
        title: parlor_core::RoomTitle::parse("Job 42").expect("title"),
        avatar: None,
        members: vec![bob.id],
        context: None,
    };
    let (id, _) = store.create_room(room).await.expect("create_room");
    let text = MessageBody::parse("Job accepted".into(), 100).expect("body");
    let appended = store.append_notice(id, &text).await.expect("append_notice");
    let message = appended.message().expect("a message").clone();
    assert_eq!((message.sender_id, message.content.as_str()), (UserId::SYSTEM, "Job accepted"));
    assert!(matches!(&message.kind, MessageKind::System(e) if e.action == "notice"));
    let history = store.messages_before(id, None, 1).await.expect("history");
    assert_eq!(history[0].id, message.id);
    assert!(matches!(
        store.append_notice(parlor_core::ConversationId(987_654), &text).await,
        Err(StoreError::NotFound)
    ));
}
