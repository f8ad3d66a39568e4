//! `Search`: the messages a user may read, and their conversations by name. The store applies
//! the same visibility rule as history; hits in conversations the searcher left are shown as
//! they were ([`Conversations`]' former-member view).

use std::sync::Arc;

use parlor_core::{AttachmentFilter, ConversationId, ConversationOverview, MessageHit, SearchQuery, Timestamp, UserId};
use parlor_store::{MessageSearch, Store};

use super::Conversations;
use crate::error::ApiResult;

/// Results per page when the client does not say, and the most it may ask for.
const PAGE_DEFAULT: u32 = 20;
const PAGE_MAX: u32 = 100;

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

    /// A page of the messages `me` may read that match, best first, and whether more follow.
    /// Naming a conversation the caller never belonged to is the same 404 as a missing one.
    pub async fn search_messages(&self, me: UserId, input: MessageSearchInput) -> ApiResult<(Vec<MessageHit>, bool)> {
        let query = SearchQuery::parse(&input.q)?;
        if let Some(id) = input.conversation_id {
            self.conversations.reader(me, id).await?;
        }
        let limit = input.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
        let search = MessageSearch {
            user: me,
            query,
            conversation: input.conversation_id,
            sender: input.sender_id,
            after: input.after,
            before: input.before,
            has: input.has,
            // One more than the page tells whether another page follows.
            limit: limit + 1,
            offset: input.offset,
        };
        let mut hits = self.store.search_messages(&search).await?;
        let has_more = hits.len() > limit as usize;
        hits.truncate(limit as usize);
        self.conversations.hits_as_they_were(me, &mut hits).await?;
        Ok((hits, has_more))
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
