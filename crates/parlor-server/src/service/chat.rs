//! `Chat`: the service for conversations, messages and read state. Its methods are split by
//! concern across `conversations.rs`, `messages.rs` and `read_state.rs`.

use std::sync::Arc;

use parlor_store::Store;

use crate::bus::Hub;
use crate::config::Limits;

#[derive(Clone)]
pub struct Chat {
    pub(super) store: Arc<dyn Store>,
    pub(super) hub: Hub,
    pub(super) limits: Arc<Limits>,
}

impl Chat {
    pub fn new(store: Arc<dyn Store>, hub: Hub, limits: Limits) -> Self {
        Self { store, hub, limits: Arc::new(limits) }
    }
}
