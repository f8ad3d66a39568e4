//! Conversations and their members: direct conversations between two users and rooms with
//! roles, each optionally linked to a context on the host platform.

use crate::ids::ConversationId;
use crate::{Context, Membership, Message, Role, Seq, Timestamp, User, UserId, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationKind {
    /// Two users; nobody joins or leaves.
    Direct,
    /// A group with a title, roles and changing members.
    Room,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Room => "room",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "direct" => Some(ConversationKind::Direct),
            "room" => Some(ConversationKind::Room),
            _ => None,
        }
    }
}

/// A conversation's own record: its identity and its two sequence counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub avatar: Option<String>,
    pub context: Option<Context>,
    /// Set while the conversation is archived: readable, but nobody can post.
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    /// The sequence number of the newest message; messages are numbered 1, 2, 3... with no gaps.
    pub last_message_seq: Seq,
    /// The sequence number of the newest entry in the conversation's event log.
    pub last_event_seq: Seq,
    /// Messages older than this many seconds are erased (disappearing messages); `None`: only
    /// the server-wide retention applies.
    pub retention_secs: Option<i64>,
    /// Under a legal hold (server API): nothing is erased, by retention or by an account's erasure.
    pub legal_hold: bool,
}

/// One member's view of a conversation: what a conversation list shows them.
#[derive(Debug, Clone)]
pub struct ConversationOverview {
    pub conversation: Conversation,
    /// Current members.
    pub members: Vec<Member>,
    /// The newest message the viewer may see.
    pub last_message: Option<Message>,
    /// The message sequence number up to which the viewer has read.
    pub last_read_seq: Seq,
    /// The viewer's own membership.
    pub membership: Membership,
}

impl ConversationOverview {
    /// Messages after the viewer's read position (up to what they may see). Sending a message
    /// moves the sender's read position to it, so this never counts their own messages.
    pub fn unread_count(&self) -> i64 {
        let visible = self.membership.message_cutoff().unwrap_or(self.conversation.last_message_seq);
        (visible.0 - self.last_read_seq.0).max(0)
    }
}

/// A current member with their role and receipt positions.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub last_read_seq: Seq,
    /// The newest message that reached at least one of the member's devices.
    pub delivered_seq: Seq,
}

/// The two distinct users of a direct conversation, smaller id first, so that the pair (a, b)
/// and the pair (b, a) name the same conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectPair {
    low: UserId,
    high: UserId,
}

impl DirectPair {
    pub fn new(a: UserId, b: UserId) -> Result<Self, ValidationError> {
        if a == b {
            return Err(ValidationError::new("user_id", "cannot start a conversation with yourself"));
        }
        Ok(Self { low: a.min(b), high: a.max(b) })
    }

    pub fn users(self) -> [UserId; 2] {
        [self.low, self.high]
    }

    /// The key that makes "one DM per pair" a unique constraint in every store.
    pub fn key(self) -> String {
        format!("{}:{}", self.low, self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_pairs_are_unordered_and_never_self() {
        let ab = DirectPair::new(UserId(2), UserId(1)).map(DirectPair::key);
        let ba = DirectPair::new(UserId(1), UserId(2)).map(DirectPair::key);
        assert_eq!(ab, ba);
        assert!(DirectPair::new(UserId(3), UserId(3)).is_err());
    }
}
