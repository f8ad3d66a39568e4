//! The seeds' shapes of users, messages and conversations, built from parlor's domain types.
//! Where seeds share a path their clients read one answer, so a message carries each seed's
//! names for the same thing (`content` and `message`, `created_at` and `timestamp`,
//! `message_type` and `kind`); no two seeds read one name with different meanings.

use parlor_core::{ConversationOverview, Message, MessageKind, User, UserId};
use parlor_protocol::{AttachmentView, preview};
use parlor_store::MemberPosition;
use serde::Serialize;

use super::Compat;
use super::ids::{Kind, SeedId, UserRef};

/// A user as the seeds' serializers show one.
#[derive(Serialize, Clone)]
pub struct SeedUser {
    pub id: UserRef,
    pub username: String,
    pub name: String,
    pub full_name: String,
    pub avatar: Option<String>,
}

impl SeedUser {
    pub fn of(compat: &Compat, user: &User) -> Self {
        Self {
            id: compat.user_ref(user),
            username: user.username.clone().unwrap_or_else(|| user.name.clone()),
            name: user.name.clone(),
            full_name: user.name.clone(),
            avatar: user.avatar.clone(),
        }
    }

    /// The sender of a message, from what the message row carries.
    fn sender(id: UserRef, m: &Message) -> Self {
        Self {
            id,
            username: m.sender_name.clone(),
            name: m.sender_name.clone(),
            full_name: m.sender_name.clone(),
            avatar: m.sender_avatar.clone(),
        }
    }
}

/// A message: seed 000's model fields, seed 002's serializer, seed 003's and 004's.
#[derive(Serialize, Clone)]
pub struct SeedMessage {
    pub id: SeedId,
    pub conversation: SeedId,
    pub conversation_id: SeedId,
    pub sender: SeedUser,
    pub sender_id: UserRef,
    /// A direct conversation's other member; `null` in a room.
    pub receiver_id: Option<UserRef>,
    pub content: String,
    pub message: String,
    /// `text`, `image` or `file` (seed 000); `video`, `audio`, `voice` too (seed 002, 004).
    pub message_type: &'static str,
    pub kind: &'static str,
    /// The download URL, as Django's FileField serializes one.
    pub attachment: Option<String>,
    pub attachment_name: Option<String>,
    pub attachment_size: Option<i64>,
    pub file_url: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub thumbnail_url: Option<String>,
    pub is_read: bool,
    pub is_edited: bool,
    pub is_deleted: bool,
    pub edited_at: Option<String>,
    pub reply_to: Option<SeedId>,
    pub reply_to_id: Option<SeedId>,
    pub created_at: String,
    pub timestamp: String,
}

/// Who read how far in one conversation, for `is_read`.
pub struct ReadPositions<'a> {
    pub me: UserId,
    pub positions: &'a [MemberPosition],
}

impl ReadPositions<'_> {
    /// Mine: someone else read it. Theirs: I did.
    fn is_read(&self, m: &Message) -> bool {
        let read = |p: &MemberPosition| p.last_read_seq >= m.seq;
        if m.sender_id == self.me {
            self.positions.iter().any(|p| p.user_id != self.me && read(p))
        } else {
            self.positions.iter().any(|p| p.user_id == self.me && read(p))
        }
    }

    pub fn other(&self) -> Option<UserId> {
        match self.positions {
            [a, b] => Some(if a.user_id == self.me { b.user_id } else { a.user_id }),
            _ => None,
        }
    }
}

/// `sender` and `receiver` are the platform's names for the users, resolved by the caller.
pub struct MessageParts {
    pub sender: UserRef,
    pub receiver: Option<UserRef>,
}

impl SeedMessage {
    pub fn of(compat: &Compat, uuid: bool, m: &Message, parts: MessageParts, read: &ReadPositions<'_>) -> Self {
        let id = compat.id(uuid, Kind::Message, m.id.0);
        let conversation = compat.id(uuid, Kind::Conversation, m.conversation_id.0);
        let attachment = m.attachment.as_ref().map(AttachmentView::from);
        let kind = match (&m.kind, &attachment) {
            (MessageKind::System(_), _) => "system",
            (MessageKind::Call(_), _) => "call",
            (MessageKind::Text, Some(a)) => a.kind,
            (MessageKind::Text, None) => "text",
        };
        let url = attachment.as_ref().and_then(|a| a.url.clone());
        let reply = m.reply_to.as_ref().map(|r| compat.id(uuid, Kind::Message, r.id.0));
        let content = if m.deleted_at.is_some() { String::new() } else { m.content.clone() };
        let created = m.created_at.to_rfc3339();
        Self {
            id,
            conversation: conversation.clone(),
            conversation_id: conversation,
            sender: SeedUser::sender(parts.sender.clone(), m),
            sender_id: parts.sender,
            receiver_id: parts.receiver,
            content: content.clone(),
            message: content,
            message_type: kind,
            kind,
            attachment: url.clone(),
            attachment_name: attachment.as_ref().map(|a| a.name.clone()),
            attachment_size: attachment.as_ref().map(|a| a.size),
            file_url: url,
            file_name: attachment.as_ref().map(|a| a.name.clone()),
            file_size: attachment.as_ref().map(|a| a.size),
            thumbnail_url: attachment.as_ref().and_then(|a| a.thumbnail_url.clone()),
            is_read: read.is_read(m),
            is_edited: m.edited_at.is_some(),
            is_deleted: m.deleted_at.is_some(),
            edited_at: m.edited_at.map(|t| t.to_rfc3339()),
            reply_to: reply.clone(),
            reply_to_id: reply,
            created_at: created.clone(),
            timestamp: created,
        }
    }
}

/// A conversation: the other person, the newest message and the unread count.
#[derive(Serialize)]
pub struct SeedConversation {
    pub id: SeedId,
    pub participants: Vec<SeedUser>,
    /// A direct conversation's other member.
    pub other_user: Option<SeedUser>,
    pub other_participant: Option<SeedUser>,
    pub title: Option<String>,
    /// The job (or other platform object) the conversation is about (seed 004).
    pub job: Option<String>,
    pub last_message: Option<SeedMessage>,
    pub last_message_preview: Option<String>,
    pub unread_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl SeedConversation {
    pub fn of(compat: &Compat, uuid: bool, me: UserId, o: &ConversationOverview) -> Self {
        let positions: Vec<MemberPosition> = o
            .members
            .iter()
            .map(|m| MemberPosition {
                user_id: m.user.id,
                last_read_seq: m.last_read_seq,
                delivered_seq: m.delivered_seq,
            })
            .collect();
        let read = ReadPositions { me, positions: &positions };
        let other = o.members.iter().find(|m| m.user.id != me).filter(|_| o.members.len() == 2);
        let last_message = o.last_message.as_ref().map(|m| {
            let sender = o
                .members
                .iter()
                .find(|x| x.user.id == m.sender_id)
                .map_or(UserRef::Number(m.sender_id.0), |x| compat.user_ref(&x.user));
            let receiver = read.other().and_then(|other_id| {
                let to = if m.sender_id == other_id { me } else { other_id };
                o.members.iter().find(|x| x.user.id == to).map(|x| compat.user_ref(&x.user))
            });
            SeedMessage::of(compat, uuid, m, MessageParts { sender, receiver }, &read)
        });
        let context = o.conversation.context.as_ref();
        Self {
            id: compat.id(uuid, Kind::Conversation, o.conversation.id.0),
            participants: o.members.iter().map(|m| SeedUser::of(compat, &m.user)).collect(),
            other_user: other.map(|m| SeedUser::of(compat, &m.user)),
            other_participant: other.map(|m| SeedUser::of(compat, &m.user)),
            title: o.conversation.title.clone(),
            job: context.map(|c| c.external_id.clone()),
            last_message_preview: o.last_message.as_ref().map(preview),
            last_message,
            unread_count: o.unread_count(),
            created_at: o.conversation.created_at.to_rfc3339(),
            updated_at: o.conversation.last_activity_at.to_rfc3339(),
        }
    }
}

/// Django REST framework's paginated list.
#[derive(Serialize)]
pub struct Page<T> {
    pub count: usize,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    pub fn of(results: Vec<T>, next: Option<String>) -> Self {
        Self { count: results.len(), next, previous: None, results }
    }
}
