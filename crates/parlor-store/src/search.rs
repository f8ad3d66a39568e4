//! What a message search asks of the store.

use parlor_core::{AttachmentFilter, ConversationId, SearchQuery, Timestamp, UserId};

/// A search of the messages `user` may read (see [`crate::Store::search_messages`]). Filters
/// left `None` do not narrow.
#[derive(Debug, Clone)]
pub struct MessageSearch {
    pub user: UserId,
    pub query: SearchQuery,
    pub conversation: Option<ConversationId>,
    pub sender: Option<UserId>,
    /// Sent strictly after this moment.
    pub after: Option<Timestamp>,
    /// Sent strictly before this moment.
    pub before: Option<Timestamp>,
    pub has: Option<AttachmentFilter>,
    pub limit: u32,
    /// Results to skip: the page's start in the ranked list.
    pub offset: u32,
}
