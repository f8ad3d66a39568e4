//! Conformance checks for webhooks: endpoints and their cursors, the outbox written with every
//! logged event, the delivery log, and pruning.

use parlor_core::{
    ConversationEvent, Emoji, EventKind, EventType, MessageBody, OutboxId, Seq, Timestamp, User, Webhook, WebhookId,
    WebhookSecret, WebhookUrl,
};

use super::rooms::room;
use super::{UNKNOWN, direct, mark_read, send, shape, three_users};
use crate::{
    ErasureMode, NewDelivery, NewWebhook, OutboxEntry, OutboxItem, QueuedNotification, QueuedUserDeleted, ReadUpTo,
    Store, StoreError,
};

pub async fn check_webhook_endpoints(store: &dyn Store) {
    assert_eq!(store.webhooks().await.expect("webhooks"), [], "a new store has no endpoints");
    let all = create(store, "https://hooks.example/all", None).await;
    assert_eq!(all.url, "https://hooks.example/all", "create_webhook keeps the url");
    assert_eq!((all.events.clone(), all.secret.as_str()), (None, SECRET), "and the filter and secret");
    assert!(all.wants(EventType::MemberLeft), "an endpoint without a filter wants every type");

    let only = Some(vec![EventType::MessageCreated, EventType::MemberAdded]);
    let filtered = create(store, "http://127.0.0.1:9/in", only.clone()).await;
    assert_ne!(filtered.id, all.id, "endpoints get distinct ids");
    assert_eq!(filtered.events, only, "the event filter is stored");
    assert!(filtered.wants(EventType::MemberAdded) && !filtered.wants(EventType::MessageEdited), "wants follows it");

    assert_eq!(store.webhooks().await.expect("webhooks"), [all.clone(), filtered.clone()], "listed oldest first");
    assert_eq!(store.webhook(all.id).await.expect("webhook"), Some(all.clone()), "webhook(id) finds it");
    assert_eq!(store.webhook(WebhookId(UNKNOWN)).await.expect("webhook"), None, "webhook(unknown) is None");

    store.delete_webhook(all.id).await.expect("delete_webhook");
    assert_eq!(store.webhooks().await.expect("webhooks"), [filtered], "a deleted endpoint is gone");
    let again = store.delete_webhook(all.id).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "deleting twice is NotFound, got {again:?}");
    let moved = store.advance_webhook(all.id, OutboxId(1)).await;
    assert!(matches!(moved, Err(StoreError::NotFound)), "advancing a deleted endpoint is NotFound, got {moved:?}");
    let logged = store.record_delivery(&attempt(&all, OutboxId(1), Some(200))).await;
    assert!(matches!(logged, Err(StoreError::NotFound)), "logging for a deleted endpoint is NotFound, got {logged:?}");
}

pub async fn check_webhook_outbox(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    send(store, ab, &alice, "before any endpoint").await;
    let hook = create(store, "https://hooks.example/in", None).await;
    assert_eq!(outbox(store, hook.cursor).await, [], "a new endpoint starts after everything logged before it");

    let hello = send(store, ab, &alice, "hello").await;
    let receipt = crate::DeliveredUpTo { conversation: ab, user: bob.id, up_to: hello.seq, log: true };
    store.mark_delivered_many(&[receipt]).await.expect("mark_delivered_many");
    mark_read(store, ab, &bob, ReadUpTo::Latest).await;
    let body = MessageBody::parse("hello, edited".into(), 4000).expect("valid body");
    store.edit_message(hello.id, &body).await.expect("edit_message");
    let thumbs = Emoji::parse("👍").expect("valid emoji");
    store.toggle_reaction(hello.id, bob.id, &thumbs).await.expect("toggle_reaction");
    let ac = direct(store, &alice, &carol).await;
    send(store, ac, &carol, "elsewhere").await;
    store.delete_message(hello.id).await.expect("delete_message");
    let crew = room(store, &alice, &[&bob]).await;

    let entries = outbox(store, hook.cursor).await;
    let shapes: Vec<_> = entries.iter().map(|e| (event(e).conversation_id, shape(event(e)))).collect();
    assert_eq!(
        shapes,
        [
            (ab, (2, "message", 2)),
            (ab, (5, "edited", 2)),
            (ab, (6, "reaction", 0)),
            (ac, (1, "message", 1)),
            (ab, (7, "deleted", 2)),
            (crew, (1, "message", 1)),
        ],
        "the outbox holds every logged event but receipts, in commit order across conversations"
    );
    assert!(entries.windows(2).all(|w| w[0].id < w[1].id), "outbox ids increase");
    assert!(entries[0].id > hook.cursor, "entries come after the endpoint's cursor");

    let logged = store.events_after(ab, Seq(1), 1).await.expect("events_after");
    assert_eq!(event(&entries[0]), &logged[0], "entries carry the event exactly as the log reads it now");
    let EventKind::MessageCreated(tombstone) = &event(&entries[0]).kind else { panic!("a message_created entry") };
    assert!(tombstone.deleted_at.is_some() && tombstone.content.is_empty(), "a deleted message reads as a tombstone");
    assert_eq!(EventType::of(event(&entries[5])), Some(EventType::ConversationCreated), "room_created is logged too");

    let page = store.outbox_after(entries[1].id, 2).await.expect("outbox_after");
    assert_eq!(ids(&page), ids(&entries[2..4]), "outbox_after returns ids > after, ascending, at most limit");
    let last = entries[5].id;
    assert_eq!(outbox(store, last).await, [], "nothing after the newest entry");

    let later = create(store, "https://hooks.example/later", None).await;
    assert_eq!(later.cursor, last, "a later endpoint starts at the newest entry");
}

pub async fn check_webhook_deliveries(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let hook = create(store, "https://hooks.example/in", None).await;
    let other = create(store, "https://hooks.example/other", None).await;
    for n in 1..=3 {
        send(store, ab, &alice, &format!("event {n}")).await;
    }
    let entries = outbox(store, hook.cursor).await;
    let [first, second, third] = [entries[0].id, entries[1].id, entries[2].id];

    store.record_delivery(&attempt(&hook, first, Some(503))).await.expect("record_delivery");
    let mut timed_out = attempt(&hook, first, None);
    (timed_out.attempt, timed_out.error) = (2, Some("timeout".into()));
    store.record_delivery(&timed_out).await.expect("record_delivery");
    assert_eq!(cursor(store, &hook).await, hook.cursor, "failed attempts leave the cursor where it was");
    let mut delivered = attempt(&hook, first, Some(204));
    delivered.attempt = 3;
    store.record_delivery(&delivered).await.expect("record_delivery");
    assert_eq!(cursor(store, &hook).await, first, "a 2xx moves the cursor to its entry");
    assert_eq!(cursor(store, &other).await, other.cursor, "each endpoint has its own cursor");

    let log = store.deliveries(hook.id, 10).await.expect("deliveries");
    let seen: Vec<_> = log.iter().map(|d| (d.outbox_id, d.attempt, d.status, d.error.as_deref())).collect();
    assert_eq!(
        seen,
        [(first, 3, Some(204), None), (first, 2, None, Some("timeout")), (first, 1, Some(503), None)],
        "the delivery log lists every attempt, newest first"
    );
    assert_eq!((log[0].event_type.as_str(), log[0].duration_ms), ("message.created", 12), "with type and duration");
    assert_eq!(store.deliveries(hook.id, 1).await.expect("deliveries").len(), 1, "deliveries honours its limit");
    assert_eq!(store.deliveries(other.id, 10).await.expect("deliveries"), [], "logs are per endpoint");

    store.advance_webhook(hook.id, third).await.expect("advance_webhook");
    assert_eq!(cursor(store, &hook).await, third, "advance_webhook skips ahead");
    store.advance_webhook(hook.id, second).await.expect("advance_webhook");
    store.record_delivery(&attempt(&hook, second, Some(200))).await.expect("record_delivery");
    assert_eq!(cursor(store, &hook).await, third, "cursors never move back");
}

pub async fn check_webhook_pruning(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let behind = create(store, "https://hooks.example/behind", None).await;
    let ahead = create(store, "https://hooks.example/ahead", None).await;
    for n in 1..=4 {
        send(store, ab, &alice, &format!("event {n}")).await;
    }
    let entries = outbox(store, OutboxId(0)).await;
    assert_eq!(entries.len(), 4, "every event is in the outbox");
    store.advance_webhook(ahead.id, entries[3].id).await.expect("advance_webhook");
    store.advance_webhook(behind.id, entries[1].id).await.expect("advance_webhook");
    for _ in 0..5 {
        store.record_delivery(&attempt(&ahead, entries[3].id, Some(500))).await.expect("record_delivery");
    }
    store.record_delivery(&attempt(&behind, entries[1].id, Some(500))).await.expect("record_delivery");

    assert_eq!(store.prune_webhooks(2).await.expect("prune_webhooks"), 2, "entries every endpoint passed go");
    assert_eq!(ids(&outbox(store, OutboxId(0)).await), ids(&entries[2..]), "entries someone still needs stay");
    assert_eq!(store.deliveries(ahead.id, 10).await.expect("deliveries").len(), 2, "the log keeps the newest rows");
    assert_eq!(store.deliveries(behind.id, 10).await.expect("deliveries").len(), 1, "short logs are kept whole");

    store.delete_webhook(behind.id).await.expect("delete_webhook");
    store.delete_webhook(ahead.id).await.expect("delete_webhook");
    assert_eq!(store.prune_webhooks(2).await.expect("prune_webhooks"), 2, "with no endpoints, everything goes");
    assert_eq!(outbox(store, OutboxId(0)).await, [], "the outbox is empty");
    send(store, ab, &alice, "nobody listens").await;
    assert_eq!(outbox(store, OutboxId(0)).await, [], "with no endpoints, nothing is written to the outbox");

    let fresh = create(store, "https://hooks.example/fresh", None).await;
    send(store, ab, &alice, "someone listens").await;
    let after = outbox(store, fresh.cursor).await;
    assert_eq!(after.len(), 1, "a new endpoint gets what follows its creation");
    assert!(after[0].id > entries[3].id, "outbox ids are never reused after pruning");
}

// --- helpers ---

const SECRET: &str = "conformance-secret-0123456789";

async fn create(store: &dyn Store, url: &str, events: Option<Vec<EventType>>) -> Webhook {
    let new = NewWebhook {
        url: WebhookUrl::parse(url).expect("valid webhook url"),
        events,
        secret: WebhookSecret::parse(SECRET).expect("valid secret"),
    };
    store.create_webhook(new).await.expect("create_webhook")
}

fn attempt(hook: &Webhook, outbox_id: OutboxId, status: Option<u16>) -> NewDelivery {
    NewDelivery {
        webhook: hook.id,
        outbox_id,
        event_type: EventType::MessageCreated,
        attempt: 1,
        status,
        error: None,
        duration_ms: 12,
        at: Timestamp::now(),
    }
}

async fn outbox(store: &dyn Store, after: OutboxId) -> Vec<OutboxEntry> {
    store.outbox_after(after, 100).await.expect("outbox_after")
}

async fn cursor(store: &dyn Store, hook: &Webhook) -> OutboxId {
    store.webhook(hook.id).await.expect("webhook").expect("endpoint exists").cursor
}

fn ids(entries: &[OutboxEntry]) -> Vec<OutboxId> {
    entries.iter().map(|e| e.id).collect()
}

fn event(entry: &OutboxEntry) -> &ConversationEvent {
    match &entry.item {
        OutboxItem::Event(event) => event,
        other => panic!("a logged event expected, got {other:?}"),
    }
}

/// `notification.created` entries: queued only while an endpoint exists, kept as given, in
/// order with the logged events around them.
pub async fn check_webhook_notifications(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    let queued = |data: &str, conversation_id| QueuedNotification {
        conversation_id,
        recipient: bob.id,
        actor: Some(alice.id),
        at: Timestamp::from_millis(1_761_386_400_000),
        data: data.into(),
    };
    let early = store.queue_notification_hook(&queued("{}", Some(ab))).await.expect("queue_notification_hook");
    assert!(!early, "nothing is queued while no endpoint exists");
    let hook = create(store, "https://hooks.example/in", None).await;
    assert_eq!(outbox(store, hook.cursor).await, [], "and nothing was");

    send(store, ab, &alice, "hello").await;
    let first = queued(r#"{"n":1}"#, Some(ab));
    assert!(store.queue_notification_hook(&first).await.expect("queue_notification_hook"), "queued with an endpoint");
    let second = queued(r#"{"n":2,"text":"ünïcode"}"#, None);
    store.queue_notification_hook(&second).await.expect("queue_notification_hook");
    send(store, ab, &bob, "after").await;

    let entries = outbox(store, hook.cursor).await;
    assert_eq!(entries.len(), 4, "two events and two notifications: {entries:?}");
    assert!(entries.windows(2).all(|w| w[0].id < w[1].id), "outbox ids increase");
    assert!(matches!(entries[0].item, OutboxItem::Event(_)) && matches!(entries[3].item, OutboxItem::Event(_)));
    assert_eq!(entries[1].item, OutboxItem::Notification(first), "a notification entry reads back as queued");
    assert_eq!(entries[2].item, OutboxItem::Notification(second), "also one about no conversation");
    assert_eq!(entries[1].item.event_type(), Some(EventType::NotificationCreated));
    assert_eq!(entries[2].item.conversation_id().0, 0, "no conversation reads as 0");

    store.advance_webhook(hook.id, entries[3].id).await.expect("advance_webhook");
    store.prune_webhooks(10).await.expect("prune_webhooks");
    assert_eq!(outbox(store, OutboxId(0)).await, [], "notification entries are pruned like the others");
}

/// `user.deleted` entries: queued by the erasure itself, only while an endpoint exists, and
/// read back as given.
pub async fn check_webhook_user_deleted(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let hook = |data: &str| QueuedUserDeleted { at: Timestamp::from_millis(1_761_386_400_000), data: data.into() };
    store.erase_user(bob.id, ErasureMode::Delete, &hook("{}")).await.expect("erase_user");
    assert_eq!(outbox(store, OutboxId(0)).await, [], "nothing is queued while no endpoint exists");
    let endpoint = create(store, "https://hooks.example/in", None).await;
    let data = hook(r#"{"user_id":1,"external_id":"ext-1","mode":"delete"}"#);
    store.erase_user(alice.id, ErasureMode::Delete, &data).await.expect("erase_user");
    let entries = outbox(store, endpoint.cursor).await;
    assert_eq!(entries.len(), 1, "one entry for the erasure: {entries:?}");
    assert_eq!(entries[0].item, OutboxItem::UserDeleted(data), "it reads back as queued");
    assert_eq!(entries[0].item.event_type(), Some(EventType::UserDeleted));
    assert_eq!(entries[0].item.conversation_id().0, 0, "about no conversation");
}

/// Erasing an account removes the queued `notification.created` entries for the person and
/// those they caused, whatever a hold keeps, and leaves the others' and the logged events.
pub async fn check_webhook_notifications_erased(store: &dyn Store) {
    let [alice, bob, carol] = three_users(store).await;
    let ab = direct(store, &alice, &bob).await;
    create(store, "https://hooks.example/in", None).await;
    let queued = |recipient: &User, actor: Option<&User>, data: &str| QueuedNotification {
        conversation_id: Some(ab),
        recipient: recipient.id,
        actor: actor.map(|a| a.id),
        at: Timestamp::from_millis(1_761_386_400_000),
        data: data.into(),
    };
    let kept = queued(&alice, Some(&carol), "carol to alice");
    for q in [queued(&bob, Some(&alice), "alice to bob"), queued(&alice, Some(&bob), "bob to alice"), kept.clone()] {
        store.queue_notification_hook(&q).await.expect("queue_notification_hook");
    }
    store.queue_notification_hook(&queued(&bob, None, "to bob from no one")).await.expect("queue_notification_hook");
    send(store, ab, &bob, "hello").await;
    let hook = QueuedUserDeleted { at: Timestamp::from_millis(1_761_386_400_000), data: "{}".into() };
    store.erase_user(bob.id, ErasureMode::Delete, &hook).await.expect("erase_user");
    let entries = outbox(store, OutboxId(0)).await;
    let notifications: Vec<_> =
        entries.iter().filter(|e| matches!(e.item, OutboxItem::Notification(_))).map(|e| &e.item).collect();
    assert_eq!(notifications, [&OutboxItem::Notification(kept)], "only carol's to alice stays: {entries:?}");
    assert!(entries.iter().any(|e| matches!(e.item, OutboxItem::Event(_))), "logged events stay: {entries:?}");
    assert!(entries.iter().any(|e| matches!(e.item, OutboxItem::UserDeleted(_))), "and user.deleted is queued");
}
