//! Checks for notification preferences and Web Push subscriptions.

use parlor_core::{EmailDelay, NotificationSettings, QuietHours, UserId};

use super::three_users;
use crate::{NewPushSubscription, Store, StoreError};

pub async fn check_notification_settings(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let fresh = store.notification_settings(alice.id).await.expect("settings");
    assert_eq!(fresh, NotificationSettings::default(), "no row: the defaults, push and email on");

    let quiet = QuietHours::parse("22:30", "07:00", "America/New_York").expect("quiet hours");
    let mine = NotificationSettings {
        push: false,
        email: true,
        email_delay_minutes: Some(EmailDelay::parse(45).expect("delay")),
        quiet_hours: Some(quiet),
    };
    store.set_notification_settings(alice.id, &mine).await.expect("set");
    assert_eq!(store.notification_settings(alice.id).await.expect("settings"), mine, "kept as written");
    assert_eq!(store.notification_settings(bob.id).await.expect("settings"), NotificationSettings::default());

    let cleared = NotificationSettings { quiet_hours: None, email_delay_minutes: None, ..mine };
    store.set_notification_settings(alice.id, &cleared).await.expect("set again");
    assert_eq!(store.notification_settings(alice.id).await.expect("settings"), cleared, "replaced, quiet hours gone");
    assert!(matches!(store.set_notification_settings(UserId(987_654), &mine).await, Err(StoreError::NotFound)));
}

pub async fn check_push_subscriptions(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let new = |user: UserId, endpoint: &str, key: &str| NewPushSubscription {
        user_id: user,
        endpoint: endpoint.to_owned(),
        p256dh: key.to_owned(),
        auth: "auth".to_owned(),
    };
    let phone = store.add_push_subscription(&new(alice.id, "https://push.example/a", "k1")).await.expect("add");
    let laptop = store.add_push_subscription(&new(alice.id, "https://push.example/b", "k2")).await.expect("add");
    assert_eq!(
        (phone.user_id, phone.endpoint.as_str(), phone.p256dh.as_str()),
        (alice.id, "https://push.example/a", "k1")
    );
    let listed = store.push_subscriptions(alice.id).await.expect("list");
    assert_eq!(listed, vec![phone.clone(), laptop.clone()], "oldest first");

    // The same endpoint again (new keys, or another account in that browser) replaces the old row.
    let again = store.add_push_subscription(&new(bob.id, "https://push.example/a", "k3")).await.expect("add");
    assert_ne!(again.id, phone.id);
    assert_eq!(store.push_subscriptions(alice.id).await.expect("list"), vec![laptop.clone()]);
    assert_eq!(store.push_subscriptions(bob.id).await.expect("list"), vec![again.clone()]);

    assert!(
        matches!(store.delete_push_subscription(Some(alice.id), again.id).await, Err(StoreError::NotFound)),
        "not hers to delete"
    );
    store.delete_push_subscription(Some(alice.id), laptop.id).await.expect("delete own");
    store.delete_push_subscription(None, again.id).await.expect("delete any (the push service said gone)");
    assert!(store.push_subscriptions(alice.id).await.expect("list").is_empty());
    assert!(store.push_subscriptions(bob.id).await.expect("list").is_empty());
    assert!(matches!(store.delete_push_subscription(None, again.id).await, Err(StoreError::NotFound)));
}
