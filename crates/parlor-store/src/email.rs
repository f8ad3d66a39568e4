//! Values of the mail that reaches people who are away: which unread notifications of which
//! conversation a mail would cover, and what the last mail about that conversation covered.

use parlor_core::{ConversationId, Timestamp, UserId};

/// A user's unread `message` and `mention` notifications of one conversation that no mail has
/// covered yet and that waited out the user's delay (their own, or the server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmailed {
    pub user_id: UserId,
    pub email: String,
    pub conversation_id: ConversationId,
    /// The newest of them: a mail covering them records it.
    pub newest_id: i64,
    /// What the last mail about this conversation covered; `None`: none ever went.
    pub last_mail: Option<MailMark>,
}

/// What `email_sent` holds for a user and conversation: the newest notification a mail covered
/// and when that mail went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailMark {
    pub through_id: i64,
    pub at: Timestamp,
}
