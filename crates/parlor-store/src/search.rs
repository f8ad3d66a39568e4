//! What a message search asks of the store, and the page it gets back.

use parlor_core::{
    AttachmentFilter, ConversationId, MessageHit, MessageId, SearchCursor, SearchQuery, Timestamp, UserId,
};

/// A search of the messages `user` may read (see [`crate::Store::search_message_page`]). Filters
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
    /// Results to skip: the page's start in the ranked list (from `below`, when given).
    pub offset: u32,
    /// Only messages with a smaller id: where a cursor pinned the ranked list.
    pub below: Option<MessageId>,
    /// How many matches, newest first, are ranked together (see [`crate::Store::search_message_page`]).
    pub window: u32,
}

impl MessageSearch {
    /// The matches ranked together by the server (tests use smaller windows).
    pub const WINDOW: u32 = parlor_core::SearchCursor::WINDOW;
}

/// A page of a message search, and where the next one starts when more follow.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub hits: Vec<MessageHit>,
    pub next: Option<SearchCursor>,
}
