//! `Directory`, the user directory: finding people to talk to (`GET /api/chat/users?q=`). It is how
//! strangers find each other, so it never lists everyone: a query of at least
//! [`MIN_QUERY_CHARS`], at most [`MAX_RESULTS`] answers, and under `dm_policy = "connections"`
//! only people the caller already shares a conversation or a contact with, plus whoever has
//! exactly the query as username (so a request to connect can still be sent to a name one knows).

use std::sync::Arc;

use parlor_core::{User, UserId, ValidationError};
use parlor_store::Store;

use crate::config::DmPolicy;
use crate::error::ApiResult;

/// Shorter queries would list nearly everyone.
pub const MIN_QUERY_CHARS: usize = 2;
/// The most people one query answers with (and the default).
pub const MAX_RESULTS: u32 = 20;

#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn Store>,
    dm_policy: DmPolicy,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>, dm_policy: DmPolicy) -> Self {
        Self { store, dm_policy }
    }

    /// People whose name or username contains `query`, by name, that `me` may find.
    pub async fn find_users(&self, me: UserId, query: &str, limit: Option<u32>) -> ApiResult<Vec<User>> {
        let query = query.trim();
        if query.chars().count() < MIN_QUERY_CHARS {
            return Err(ValidationError::new("q", "type at least 2 characters to search for people").into());
        }
        let limit = limit.unwrap_or(MAX_RESULTS).clamp(1, MAX_RESULTS);
        let among = (self.dm_policy == DmPolicy::Connections).then_some(me);
        Ok(self.store.search_users(query, limit, among).await?)
    }
}
