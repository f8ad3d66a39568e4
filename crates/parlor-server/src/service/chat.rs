//! `Chat`: the service for conversations, messages and read state. Its methods are split by
//! concern across `conversations.rs`, `messages.rs`, `lifecycle.rs`, `rooms.rs`, `connections.rs`
//! and `read_state.rs`.

use std::sync::Arc;

use parlor_store::Store;

use crate::bus::Hub;
use crate::config::{Config, DmPolicy, Limits};

#[derive(Clone)]
pub struct Chat {
    pub(super) store: Arc<dyn Store>,
    pub(super) hub: Hub,
    pub(super) limits: Arc<Limits>,
    pub(super) dm_policy: DmPolicy,
    pub(super) allow_edit_delete: bool,
}

impl Chat {
    pub fn new(store: Arc<dyn Store>, hub: Hub, config: &Config) -> Self {
        Self {
            store,
            hub,
            limits: Arc::new(config.limits.clone()),
            dm_policy: config.dm_policy,
            allow_edit_delete: config.allow_edit_delete,
        }
    }
}
