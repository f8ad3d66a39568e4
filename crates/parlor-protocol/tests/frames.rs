//! Snapshot tests of the wire contract: the exact JSON of server frames, the parsing of client
//! frames, and every error code. A failure here means the protocol changed: update
//! docs/protocol.md and bump PROTOCOL_VERSION if the change is not additive.

use parlor_core::{
    ConversationEvent, ConversationId, EventKind, Message, MessageId, MessageKind, Reaction, ReplyPreview, Seq,
    Timestamp, UserId,
};
use parlor_protocol::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use serde_json::json;

fn message() -> Message {
    Message {
        id: MessageId(123),
        conversation_id: ConversationId(7),
        seq: Seq(3),
        sender_id: UserId(456),
        sender_name: "John Doe".into(),
        sender_avatar: Some("https://cdn.example/j.png".into()),
        content: "Hello!".into(),
        reply_to: Some(ReplyPreview {
            id: MessageId(120),
            sender_id: UserId(9),
            sender_name: "Ann".into(),
            content: "Hi?".into(),
            deleted: false,
        }),
        client_id: Some("c-1".into()),
        created_at: Timestamp::from_millis(1_761_386_400_000),
        kind: MessageKind::Text,
        edited_at: None,
        deleted_at: None,
        forwarded: false,
        reactions: vec![Reaction { emoji: "👍".into(), user_ids: vec![UserId(9), UserId(11)] }],
        attachment: None,
    }
}

#[test]
fn chat_message_frame_is_seed_001_plus_parlor_fields() {
    let event = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(5),
        at: Timestamp::from_millis(0),
        kind: EventKind::MessageCreated(message()),
    };
    let json: serde_json::Value = serde_json::from_str(&ServerFrame::from_event(&event).to_json()).unwrap_or_default();
    assert_eq!(
        json,
        json!({
            "type": "chat_message",
            "conversation_id": 7,
            "seq": 5,
            "message_id": 123,
            "message_seq": 3,
            "sender_id": 456,
            "sender_name": "John Doe",
            "sender_avatar": "https://cdn.example/j.png",
            "content": "Hello!",
            "created_at": "2025-10-25T10:00:00.000Z",
            "kind": "text",
            "attachment": null,
            "preview": "Hello!",
            "reply_to": {"id": 120, "sender_id": 9, "sender_name": "Ann", "content": "Hi?", "deleted": false},
            "client_id": "c-1",
            "edited_at": null,
            "deleted": false,
            "forwarded": false,
            "reactions": [{"emoji": "👍", "count": 2, "user_ids": [9, 11]}]
        })
    );
}

#[test]
fn messages_read_and_hello_frames() {
    let event = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(6),
        at: Timestamp::from_millis(1_761_386_400_000),
        kind: EventKind::MessagesRead {
            user_id: UserId(456),
            up_to: Seq(3),
            message_ids: vec![MessageId(1), MessageId(2)],
        },
    };
    assert_eq!(
        ServerFrame::from_event(&event).to_json(),
        r#"{"type":"messages_read","conversation_id":7,"seq":6,"user_id":456,"message_ids":[1,2],"up_to_seq":3,"read_at":"2025-10-25T10:00:00.000Z"}"#
    );
    let hello = ServerFrame::ConnectionEstablished {
        message: "Connected to chat",
        protocol: PROTOCOL_VERSION,
        user_id: UserId(1),
        conversation_id: None,
    };
    assert_eq!(
        hello.to_json(),
        r#"{"type":"connection_established","message":"Connected to chat","protocol":1,"user_id":1}"#
    );
    assert_eq!(
        ServerFrame::error(ErrorCode::NotFound, "conversation not found").to_json(),
        r#"{"type":"error","code":"not_found","message":"conversation not found"}"#
    );
}

#[test]
fn client_frames_parse_seed_001_shapes() {
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"chat_message","content":"Hello!"}"#), Ok(ClientFrame::ChatMessage(f)) if f.content == "Hello!" && f.conversation_id.is_none())
    );
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"typing_indicator","is_typing":true}"#), Ok(ClientFrame::TypingIndicator(f)) if f.is_typing)
    );
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"message_read","message_ids":[1,2,3]}"#), Ok(ClientFrame::MessageRead(f)) if f.message_ids.len() == 3)
    );
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"resume","conversations":{"7":12}}"#), Ok(ClientFrame::Resume(f)) if f.conversations.get(&7) == Some(&12))
    );
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"focus","conversation_id":7}"#), Ok(ClientFrame::Focus(f)) if f.conversation_id == Some(ConversationId(7)))
    );
    assert!(
        matches!(ClientFrame::parse(r#"{"type":"focus","conversation_id":null}"#), Ok(ClientFrame::Focus(f)) if f.conversation_id.is_none())
    );
}

#[test]
fn presence_and_notification_frames() {
    let offline = ServerFrame::UserStatusChange {
        user_id: UserId(123),
        is_online: false,
        last_seen: Some(Timestamp::from_millis(1_761_386_400_000)),
    };
    assert_eq!(
        serde_json::to_value(&offline).ok(),
        Some(
            json!({"type": "user_status_change", "user_id": 123, "is_online": false, "last_seen": "2025-10-25T10:00:00.000Z"})
        )
    );
    let online = ServerFrame::UserStatusChange { user_id: UserId(123), is_online: true, last_seen: None };
    assert_eq!(
        serde_json::to_value(&online).ok(),
        Some(json!({"type": "user_status_change", "user_id": 123, "is_online": true}))
    );
    let n = parlor_core::Notification {
        id: 41,
        user_id: UserId(1),
        kind: parlor_core::NotificationKind::Mention,
        conversation_id: Some(ConversationId(7)),
        message_id: Some(MessageId(123)),
        actor_id: Some(UserId(2)),
        actor_name: Some("bob".into()),
        contact_id: None,
        count: 1,
        preview: "hey @alice".into(),
        created_at: Timestamp::from_millis(1_761_386_400_000),
        updated_at: Timestamp::from_millis(1_761_386_400_000),
        read: false,
    };
    let frame =
        ServerFrame::Notification { notification: parlor_protocol::NotificationView::from(&n), unread_count: 3 };
    assert_eq!(
        serde_json::to_value(&frame).ok(),
        Some(json!({"type": "notification", "unread_count": 3, "notification": {
            "id": 41, "type": "mention", "conversation_id": 7, "message_id": 123, "actor_id": 2,
            "actor_name": "bob", "connection_id": null, "count": 1, "preview": "hey @alice",
            "created_at": "2025-10-25T10:00:00.000Z", "updated_at": "2025-10-25T10:00:00.000Z", "is_read": false}}))
    );
}

#[test]
fn client_frame_errors_say_what_is_wrong() {
    let code = |text: &str| ClientFrame::parse(text).err().map(|e| e.code);
    assert_eq!(code("{oops"), Some(ErrorCode::InvalidJson));
    assert_eq!(code(r#"{"type":"dance"}"#), Some(ErrorCode::UnknownEvent));
    assert_eq!(code(r#"{"type":"chat_message","content":1}"#), Some(ErrorCode::InvalidBody));
    assert_eq!(code(r#"{"content":"x"}"#), Some(ErrorCode::InvalidBody));
    assert_eq!(code("42"), Some(ErrorCode::InvalidBody));
    // A number no reading can hold is malformed, even in a field the frame ignores (found by the fuzzer).
    assert_eq!(code(r#"{"type":"ping","x":4444E4444}"#), Some(ErrorCode::InvalidJson));
}

/// Issue #16: the fuzzer found a frame that meant one thing as sent and failed to parse once its
/// keys were reordered, because the parse went through `serde_json::Value`, which serde_json's
/// private `RawValue` token steers.
#[test]
fn a_frame_means_what_its_json_says_whatever_its_key_order() {
    let found = r#"{"type":"focus","$serde_json::private::RawValue":null}"#;
    let reordered = r#"{"$serde_json::private::RawValue":null,"type":"focus"}"#;
    for text in [found, reordered] {
        assert!(matches!(ClientFrame::parse(text), Ok(ClientFrame::Focus(f)) if f.conversation_id.is_none()), "{text}");
    }
    // The token cannot turn a string into an object's `type`, nor a field into another value.
    let code = |text: &str| ClientFrame::parse(text).err().map(|e| e.code);
    assert_eq!(code(r#"{"type":{"$serde_json::private::RawValue":"\"ping\""}}"#), Some(ErrorCode::InvalidBody));
    assert_eq!(
        code(r#"{"type":"chat_message","content":{"$serde_json::private::RawValue":"\"hi\""}}"#),
        Some(ErrorCode::InvalidBody)
    );
    // Whatever key order decides is refused: a duplicate `type`, field or resumed conversation.
    assert_eq!(code(r#"{"type":"ping","type":"focus"}"#), Some(ErrorCode::InvalidBody));
    assert_eq!(code(r#"{"type":"chat_message","content":"a","content":"b"}"#), Some(ErrorCode::InvalidBody));
    assert_eq!(code(r#"{"type":"resume","conversations":{"0":1,"-0":2}}"#), Some(ErrorCode::InvalidBody));
    // An array is not a frame, even one whose elements line up with a frame's fields.
    assert_eq!(code(r#"["chat_message"]"#), Some(ErrorCode::InvalidBody));
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (ErrorCode::InvalidJson, "invalid_json"),
        (ErrorCode::InvalidBody, "invalid_body"),
        (ErrorCode::ValidationFailed, "validation_failed"),
        (ErrorCode::Unauthorized, "unauthorized"),
        (ErrorCode::InvalidCredentials, "invalid_credentials"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::UsernameTaken, "username_taken"),
        (ErrorCode::PayloadTooLarge, "payload_too_large"),
        (ErrorCode::FrameTooLarge, "frame_too_large"),
        (ErrorCode::UnknownEvent, "unknown_event"),
        (ErrorCode::ConversationRequired, "conversation_required"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::ConversationArchived, "conversation_archived"),
        (ErrorCode::LastOwner, "last_owner"),
        (ErrorCode::NotARoom, "not_a_room"),
        (ErrorCode::EditingDisabled, "editing_disabled"),
        (ErrorCode::ConnectionRequired, "connection_required"),
        (ErrorCode::ConnectionExists, "connection_exists"),
        (ErrorCode::AccountDisabled, "account_disabled"),
        (ErrorCode::Blocked, "blocked"),
        (ErrorCode::AlreadyReported, "already_reported"),
        (ErrorCode::UnsupportedMediaType, "unsupported_media_type"),
        (ErrorCode::ImageTooLarge, "image_too_large"),
        (ErrorCode::SlowConsumer, "slow_consumer"),
        (ErrorCode::RateLimited, "rate_limited"),
        (ErrorCode::Unavailable, "unavailable"),
        (ErrorCode::NotSupported, "not_supported"),
        (ErrorCode::InsufficientStorage, "insufficient_storage"),
        (ErrorCode::Internal, "internal"),
        (ErrorCode::CallUnavailable, "call_unavailable"),
    ];
    for (code, text) in all {
        assert_eq!(code.as_str(), text);
        assert_eq!(serde_json::to_value(code).ok(), Some(json!(text)));
    }
}

#[test]
fn lifecycle_frames() {
    let at = Timestamp::from_millis(1_761_386_400_000);
    let deleted = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(9),
        at,
        kind: EventKind::MessageDeleted { message_id: MessageId(123), message_seq: Seq(3) },
    };
    assert_eq!(
        ServerFrame::from_event(&deleted).to_json(),
        r#"{"type":"message_deleted","conversation_id":7,"seq":9,"message_id":123,"message_seq":3}"#
    );
    let reaction = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(10),
        at,
        kind: EventKind::ReactionChanged {
            message_id: MessageId(123),
            user_id: UserId(9),
            emoji: "👍".into(),
            added: true,
            reactions: vec![Reaction { emoji: "👍".into(), user_ids: vec![UserId(9)] }],
        },
    };
    assert_eq!(
        ServerFrame::from_event(&reaction).to_json(),
        r#"{"type":"reaction_updated","conversation_id":7,"seq":10,"message_id":123,"user_id":9,"emoji":"👍","added":true,"reactions":[{"emoji":"👍","count":1,"user_ids":[9]}]}"#
    );
    let delivered = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(11),
        at,
        kind: EventKind::MessagesDelivered { user_id: UserId(9), up_to: Seq(3) },
    };
    assert_eq!(
        ServerFrame::from_event(&delivered).to_json(),
        r#"{"type":"messages_delivered","conversation_id":7,"seq":11,"user_id":9,"up_to_seq":3}"#
    );
    let updated = ConversationEvent {
        conversation_id: ConversationId(7),
        seq: Seq(12),
        at,
        kind: EventKind::ConversationUpdated { title: Some("Team".into()), avatar: None, archived: true },
    };
    assert_eq!(
        ServerFrame::from_event(&updated).to_json(),
        r#"{"type":"conversation_updated","conversation_id":7,"seq":12,"title":"Team","avatar":null,"archived":true}"#
    );
}

#[test]
fn attachment_messages_carry_metadata_urls_and_a_preview() {
    let mut m = message();
    m.content = String::new();
    m.reply_to = None;
    m.reactions = Vec::new();
    m.attachment = Some(parlor_core::Attachment {
        id: parlor_core::AttachmentId(12),
        kind: parlor_core::AttachmentKind::File,
        file_name: "report.pdf".into(),
        content_type: "application/pdf".into(),
        size: 2048,
        width: None,
        height: None,
        has_thumbnail: false,
        expired: false,
    });
    let view = serde_json::to_value(parlor_protocol::MessageView::from(&m)).unwrap_or_default();
    assert_eq!(view["kind"], "file");
    assert_eq!(view["preview"], "📎 report.pdf");
    assert_eq!(
        view["attachment"],
        json!({"id": 12, "kind": "file", "name": "report.pdf", "size": 2048, "content_type": "application/pdf",
               "width": null, "height": null, "url": "/api/chat/attachments/12/", "thumbnail_url": null, "expired": false})
    );
}

#[test]
fn call_frames() {
    let text = r#"{"type":"call_signal","call_id":"ab","to":"0f","data":{"sdp":{"type":"offer","sdp":"v=0"}}}"#;
    let Ok(ClientFrame::CallSignal(signal)) = ClientFrame::parse(text) else { panic!("a call_signal") };
    assert_eq!((signal.call_id.as_str(), signal.to.as_str()), ("ab", "0f"));
    assert_eq!(signal.data.0.get(), r#"{"sdp":{"type":"offer","sdp":"v=0"}}"#, "kept as sent");
    let relayed =
        ServerFrame::CallSignal { call_id: "ab".into(), from: "1e".into(), from_user: UserId(4), data: signal.data };
    assert_eq!(
        relayed.to_json(),
        r#"{"type":"call_signal","call_id":"ab","from":"1e","from_user":4,"data":{"sdp":{"type":"offer","sdp":"v=0"}}}"#
    );
    let ended = ServerFrame::CallEnded { call_id: "ab".into(), conversation_id: ConversationId(7), reason: "missed" };
    assert_eq!(ended.to_json(), r#"{"type":"call_ended","call_id":"ab","conversation_id":7,"reason":"missed"}"#);
    assert!(matches!(
        ClientFrame::parse(r#"{"type":"call_invite","conversation_id":7,"media":"video"}"#),
        Ok(ClientFrame::CallInvite(f)) if f.conversation_id == ConversationId(7) && f.media == "video"
    ));
    assert!(ClientFrame::parse(r#"{"type":"call_signal","call_id":"ab","to":"0f"}"#).is_err(), "data is required");
}
