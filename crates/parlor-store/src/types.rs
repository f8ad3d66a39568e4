//! Values the store hands back from its writes.

use parlor_core::{
    AvatarUrl, Context, ConversationEvent, ConversationId, EventKind, Message, MessageId, Role, RoomTitle, Seq,
    SessionId, Timestamp, UserId,
};

/// The result of [`crate::Store::append_message`].
#[derive(Debug, Clone)]
pub struct Appended {
    /// The `MessageCreated` event (the original one, for a duplicate).
    pub event: ConversationEvent,
    /// True when the `client_id` was seen before and nothing new was stored.
    pub duplicate: bool,
}

impl Appended {
    pub fn message(&self) -> Option<&Message> {
        match &self.event.kind {
            EventKind::MessageCreated(m) => Some(m),
            _ => None,
        }
    }
}

/// How far to mark a conversation read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadUpTo {
    /// Everything stored so far.
    Latest,
    /// Up to the newest of these messages; ids of other conversations are ignored.
    Messages(Vec<MessageId>),
}

/// The result of [`crate::Store::mark_read`].
#[derive(Debug, Clone)]
pub struct ReadOutcome {
    pub last_read_seq: Seq,
    pub unread_count: i64,
    /// The logged event, when the position moved.
    pub event: Option<ConversationEvent>,
}

/// A room to create.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub creator: UserId,
    pub title: RoomTitle,
    pub avatar: Option<AvatarUrl>,
    /// Others to add as members (the creator is added as owner).
    pub members: Vec<UserId>,
    pub context: Option<Context>,
}

/// A change of membership, made by an actor whose right to make it the service has checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<UserId>),
    Remove(UserId),
    /// The actor removes themselves.
    Leave,
    SetRole(UserId, Role),
}

/// A change to a conversation's own settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ConversationPatch {
    pub title: Option<RoomTitle>,
    /// `Some(None)` clears the avatar.
    pub avatar: Option<Option<AvatarUrl>>,
    pub archived: Option<bool>,
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub context_type: Option<String>,
    pub context_id: Option<String>,
    /// Only conversations after this one in the list's order (the next page).
    pub after: Option<ListPosition>,
    pub limit: u32,
}

/// Where a conversation stands in a list, most recent activity first (ties: higher id first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    pub last_activity_at: Timestamp,
    pub id: ConversationId,
}

/// A member's receipt positions: message seqs read and delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPosition {
    pub user_id: UserId,
    pub last_read_seq: Seq,
    pub delivered_seq: Seq,
}

/// A delivery receipt: `user`'s devices have received `conversation`'s messages up to `up_to`.
/// With `log`, moving the position logs a `MessagesDelivered` event (small conversations; see
/// the server's receipt policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredUpTo {
    pub conversation: ConversationId,
    pub user: UserId,
    pub up_to: Seq,
    pub log: bool,
}

/// Which of a user's notifications to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Only ids below this one (the previous page's last id).
    pub before: Option<i64>,
    pub unread_only: bool,
    pub limit: u32,
}

/// Which notifications to mark read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationsToRead {
    One(i64),
    All,
    /// Those about one conversation (the user just read it).
    Conversation(parlor_core::ConversationId),
}

/// An admin's change to a user; `None` leaves a flag as it is.
#[derive(Debug, Clone, Default)]
pub struct UserFlags {
    pub admin: Option<bool>,
    pub disabled: Option<bool>,
}

/// What presenting a refresh token did ([`crate::Store::rotate_refresh_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was live: it is spent, and the next token of its session is stored.
    Rotated { user: UserId, session: SessionId },
    /// It had been spent before: someone holds a copy. The whole session is revoked.
    Reused { user: UserId, session: SessionId },
    /// Unknown or expired; nothing changed.
    Invalid,
}

/// A room's title, picture and archived flag at some point ([`crate::Store::look_as_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomLook {
    pub title: Option<String>,
    pub avatar: Option<String>,
    pub archived: bool,
    /// When the last change up to that point was made, if one was.
    pub since: Option<Timestamp>,
}
