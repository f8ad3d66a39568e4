//! `Search`: the messages a user may read, and their conversations by name. The store applies
//! the same visibility rule as history; hits in conversations the searcher left are shown as
//! they were ([`Conversations`]' former-member view).

use std::sync::Arc;

use parlor_core::{
    AttachmentFilter, ConversationId, ConversationOverview, SearchCursor, SearchQuery, Timestamp, UserId,
    ValidationError,
};
use parlor_store::{MessageSearch, SearchPage, Store};

use super::Conversations;
use crate::error::ApiResult;

/// Results per page when the client does not say, and the most it may ask for.
const PAGE_DEFAULT: u32 = 20;
const PAGE_MAX: u32 = 100;
/// The deepest `offset`: a page reads every window up to it, so deeper pages take a cursor.
const OFFSET_MAX: u32 = 1_000;

/// A message search as a client asked for it; only `q` is still raw text.
#[derive(Debug, Default)]
pub struct MessageSearchInput {
    pub q: String,
    pub conversation_id: Option<ConversationId>,
    pub sender_id: Option<UserId>,
    pub after: Option<Timestamp>,
    pub before: Option<Timestamp>,
    pub has: Option<AttachmentFilter>,
    pub limit: Option<u32>,
    pub offset: u32,
    /// Where a previous page said the next one starts (then `offset` is 0).
    pub cursor: Option<SearchCursor>,
}

#[derive(Clone)]
pub struct Search {
    store: Arc<dyn Store>,
    conversations: Conversations,
}

impl Search {
    pub fn new(store: Arc<dyn Store>, conversations: Conversations) -> Self {
        Self { store, conversations }
    }

    /// A page of the messages `me` may read that match, best first within windows of the newest
    /// matches (see `Store::search_message_page`), and where the next page starts. Naming a
    /// conversation the caller never belonged to is the same 404 as a missing one.
    pub async fn search_messages(&self, me: UserId, input: MessageSearchInput) -> ApiResult<SearchPage> {
        let query = SearchQuery::parse(&input.q)?;
        if input.offset > OFFSET_MAX {
            return Err(ValidationError::new("offset", "must be at most 1000; page deeper with next_cursor").into());
        }
        if let Some(id) = input.conversation_id {
            self.conversations.reader(me, id).await?;
        }
        let limit = input.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
        let (below, offset) = match input.cursor {
            Some(cursor) => (Some(cursor.below), cursor.skip),
            None => (None, input.offset),
        };
        let search = MessageSearch {
            user: me,
            query,
            conversation: input.conversation_id,
            sender: input.sender_id,
            after: input.after,
            before: input.before,
            has: input.has,
            limit,
            offset,
            below,
            window: MessageSearch::WINDOW,
        };
        let mut page = self.store.search_message_page(&search).await?;
        self.conversations.hits_as_they_were(me, &mut page.hits).await?;
        Ok(page)
    }

    /// The caller's conversations (including ones they left, by the name they had then) whose
    /// name matches, best first.
    pub async fn search_conversations(
        &self,
        me: UserId,
        q: &str,
        limit: Option<u32>,
    ) -> ApiResult<Vec<ConversationOverview>> {
        let query = SearchQuery::parse(q)?;
        let limit = limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
        let mut found = self.store.search_conversations(me, &query, limit).await?;
        for overview in &mut found {
            self.conversations.overview_as_seen(overview).await?;
        }
        Ok(found)
    }
}
