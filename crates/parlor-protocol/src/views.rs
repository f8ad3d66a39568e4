//! How users, conversations and messages look on the wire, built from the domain types.

use parlor_core::{
    ConversationId, ConversationOverview, Message, MessageId, ReplyPreview, Seq, Timestamp, User, UserId,
};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub username: Option<String>,
    pub name: String,
    pub avatar: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self { id: u.id, username: u.username.clone(), name: u.name.clone(), avatar: u.avatar.clone() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplyView {
    pub id: MessageId,
    pub sender_id: UserId,
    pub sender_name: String,
    pub content: String,
}

impl From<&ReplyPreview> for ReplyView {
    fn from(r: &ReplyPreview) -> Self {
        Self { id: r.id, sender_id: r.sender_id, sender_name: r.sender_name.clone(), content: r.content.clone() }
    }
}

/// A message over REST. Its WebSocket twin is [`crate::ServerFrame::ChatMessage`].
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Per-conversation message number, gap-free; also the `before` cursor of history pages.
    pub seq: Seq,
    pub sender_id: UserId,
    pub sender_name: String,
    pub sender_avatar: Option<String>,
    pub content: String,
    pub reply_to: Option<ReplyView>,
    pub client_id: Option<String>,
    pub created_at: Timestamp,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            sender_name: m.sender_name.clone(),
            sender_avatar: m.sender_avatar.clone(),
            content: m.content.clone(),
            reply_to: m.reply_to.as_ref().map(ReplyView::from),
            client_id: m.client_id.clone(),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub id: ConversationId,
    pub kind: &'static str,
    pub title: Option<String>,
    pub members: Vec<UserView>,
    pub last_message: Option<MessageView>,
    pub unread_count: i64,
    /// The caller's read position (a message `seq`).
    pub last_read_seq: Seq,
    pub last_message_seq: Seq,
    /// The newest event-log position: a fresh resume cursor for this conversation.
    pub last_event_seq: Seq,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
}

impl From<&ConversationOverview> for ConversationView {
    fn from(o: &ConversationOverview) -> Self {
        let c = &o.conversation;
        Self {
            id: c.id,
            kind: c.kind.as_str(),
            title: c.title.clone(),
            members: o.members.iter().map(UserView::from).collect(),
            last_message: o.last_message.as_ref().map(MessageView::from),
            unread_count: o.unread_count(),
            last_read_seq: o.last_read_seq,
            last_message_seq: c.last_message_seq,
            last_event_seq: c.last_event_seq,
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
        }
    }
}
