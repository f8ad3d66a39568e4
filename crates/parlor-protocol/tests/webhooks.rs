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
