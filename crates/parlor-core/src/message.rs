//! Messages and the values a sender supplies: the body and an optional idempotency key.

use crate::{Attachment, ConversationId, MessageId, NewAttachment, Seq, Timestamp, UserId, ValidationError};

/// A stored message as every reader sees it, with the sender's current name and avatar.
/// A deleted message keeps its place (id, seq, sender, time) with empty content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Per-conversation message number: 1, 2, 3... assigned when stored, with no gaps.
    pub seq: Seq,
    pub sender_id: UserId,
    pub sender_name: String,
    pub sender_avatar: Option<String>,
    pub content: String,
    pub reply_to: Option<ReplyPreview>,
    pub client_id: Option<String>,
    pub created_at: Timestamp,
    pub kind: MessageKind,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    /// Copied from another conversation; where from is not revealed.
    pub forwarded: bool,
    pub reactions: Vec<Reaction>,
    pub attachment: Option<Attachment>,
}

/// A user message, or one the server writes about the conversation (member added...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    System(SystemEvent),
    /// A call: one per call, written by the caller when it ends.
    Call(crate::CallRecord),
}

/// What a system message records. Clients can render their own text from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemEvent {
    /// `room_created`, `members_added`, `member_removed`, `member_left`, `role_changed`,
    /// `room_renamed`, `avatar_changed`, `archived`, `unarchived`.
    pub action: String,
    pub actor_id: UserId,
    pub user_ids: Vec<UserId>,
    /// For `role_changed`: the new role.
    pub role: Option<String>,
}

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<UserId>,
}

/// A reaction: one emoji (or short emoji sequence), 1 to 32 bytes, no spaces or controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 32 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new("emoji", "must be 1 to 32 bytes without spaces"));
        }
        if raw.chars().count() > 8 || raw.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ValidationError::new("emoji", "must be an emoji"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a reply shows of the message it quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPreview {
    pub id: MessageId,
    pub sender_id: UserId,
    pub sender_name: String,
    /// The quoted text, cut to [`ReplyPreview::MAX_CHARS`]; empty if it was deleted.
    pub content: String,
    pub deleted: bool,
}

impl ReplyPreview {
    pub const MAX_CHARS: usize = 200;

    pub fn excerpt(content: &str) -> String {
        content.chars().take(Self::MAX_CHARS).collect()
    }
}

/// A message to store. Built only from parsed values.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub body: MessageBody,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<ClientId>,
    pub forwarded: bool,
    /// For a file message: the stored file; the body is its caption and may be empty.
    pub attachment: Option<NewAttachment>,
}

/// Message text: not blank, at most the configured number of characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: String, max_chars: usize) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::new("content", "must not be empty"));
        }
        if raw.chars().count() > max_chars {
            return Err(ValidationError::new("content", format!("must be at most {max_chars} characters")));
        }
        Ok(Self(raw))
    }

    /// An attachment's caption: like a body, but may be empty.
    pub fn caption(raw: String, max_chars: usize) -> Result<Self, ValidationError> {
        if raw.chars().count() > max_chars {
            return Err(ValidationError::new("caption", format!("must be at most {max_chars} characters")));
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sender-chosen key that makes a send idempotent: retries with the same key store one
/// message. 1 to 64 printable ASCII characters (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new("client_id", "must be 1 to 64 printable ASCII characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_not_blank_and_bounded_in_characters() {
        assert!(MessageBody::parse("hi".into(), 10).is_ok());
        assert!(MessageBody::parse(" \n ".into(), 10).is_err());
        assert!(MessageBody::parse("ééééé".into(), 5).is_ok(), "limit counts characters, not bytes");
        assert!(MessageBody::parse("abcdef".into(), 5).is_err());
    }

    #[test]
    fn client_ids_are_short_printable_ascii() {
        assert!(ClientId::parse("3f2b-11").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("has space").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
    }
}
