//! Notifications: what a user is told about while away or when called by name, kept until read.

use crate::{ConversationId, MessageId, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Messages arrived while the user had no open connection; one unread notification per
    /// conversation, counting them.
    Message,
    /// Someone wrote `@username`.
    Mention,
    /// Someone added the user to a room.
    RoomAdded,
    /// Someone asked to become a contact (the API calls it a connection request, as seed 001 does).
    ContactRequest,
    /// The user's data export is ready to download (docs/privacy.md).
    ExportReady,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Mention => "mention",
            Self::RoomAdded => "room_added",
            Self::ContactRequest => "connection_request",
            Self::ExportReady => "export_ready",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "message" => Self::Message,
            "mention" => Self::Mention,
            "room_added" => Self::RoomAdded,
            "connection_request" => Self::ContactRequest,
            "export_ready" => Self::ExportReady,
            _ => return None,
        })
    }
}

/// A notification to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub actor_id: Option<UserId>,
    /// The contact request it is about (`connection_id` on the wire).
    pub contact_id: Option<i64>,
}

/// A stored notification as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub conversation_id: Option<ConversationId>,
    /// The newest message it is about.
    pub message_id: Option<MessageId>,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    /// The contact request it is about (`connection_id` on the wire).
    pub contact_id: Option<i64>,
    /// How many messages a collapsed `Message` notification stands for.
    pub count: i64,
    /// The message's text as it is now (empty once deleted), cut short.
    pub preview: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub read: bool,
}
