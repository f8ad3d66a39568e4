//! Snapshot of a webhook payload: the envelope parlor adds around the WebSocket frame of the
//! same event. A failure here means the webhook contract changed: update docs/webhooks.md.

use parlor_core::{ConversationEvent, ConversationId, EventKind, EventType, MessageId, OutboxId, Seq, Timestamp};
use parlor_protocol::WebhookPayload;
use serde_json::json;

#[test]
fn a_payload_wraps_the_websocket_frame_of_its_event() {
    let event = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(9),
        at: Timestamp::from_millis(1_761_386_400_000),
        kind: EventKind::MessageDeleted { message_id: MessageId(123), message_seq: Seq(3) },
    };
    let payload = WebhookPayload::new(OutboxId(42), EventType::MessageDeleted, &event);
    let json = serde_json::to_value(&payload).unwrap_or_default();
    assert_eq!(
        json,
        json!({
            "id": "42",
            "type": "message.deleted",
            "created_at": "2025-10-25T10:00:00.000Z",
            "conversation_id": 7,
            "data": {
                "type": "message_deleted",
                "conversation_id": 7,
                "seq": 9,
                "message_id": 123,
                "message_seq": 3
            }
        })
    );
}

#[test]
fn a_notification_payload_names_the_recipient_and_sender_by_both_ids() {
    use parlor_core::UserId;
    use parlor_protocol::{HookUser, NotificationHook};
    let hook = NotificationHook {
        notification_id: 5,
        kind: "mention".into(),
        recipient: HookUser { id: UserId(2), external_id: Some("u-2".into()), name: "Bob".into() },
        conversation_id: Some(ConversationId(7)),
        message_id: Some(MessageId(123)),
        sender: Some(HookUser { id: UserId(1), external_id: None, name: "Alice".into() }),
        preview: "hi @bob".into(),
        count: 1,
        online: false,
    };
    let payload = WebhookPayload::notification(OutboxId(43), Timestamp::from_millis(1_761_386_400_000), hook);
    let json = serde_json::to_value(&payload).unwrap_or_default();
    assert_eq!(
        json,
        json!({
            "id": "43",
            "type": "notification.created",
            "created_at": "2025-10-25T10:00:00.000Z",
            "conversation_id": 7,
            "data": {
                "notification_id": 5,
                "kind": "mention",
                "recipient": {"id": 2, "external_id": "u-2", "name": "Bob"},
                "conversation_id": 7,
                "message_id": 123,
                "sender": {"id": 1, "external_id": null, "name": "Alice"},
                "preview": "hi @bob",
                "count": 1,
                "online": false
            }
        })
    );
}
