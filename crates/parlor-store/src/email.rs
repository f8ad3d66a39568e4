//! Values of the mail that reaches people who are away: which unread notifications of which
//! conversation a mail would cover, and when that conversation was last mailed.

use parlor_core::{ConversationId, Timestamp, UserId};

/// A user's unread `message` and `mention` notifications of one conversation that no mail has
/// covered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmailed {
    pub user_id: UserId,
    pub email: String,
    pub conversation_id: ConversationId,
    /// When the oldest of them was made (a folded notification keeps its first message's time).
    pub oldest_at: Timestamp,
    /// Notifications with ids above this are not mailed yet (0: none ever was).
    pub after_id: i64,
    /// The newest of them: a mail covering them records it.
    pub newest_id: i64,
    /// When the last mail about this conversation went to them.
    pub last_mailed_at: Option<Timestamp>,
}
