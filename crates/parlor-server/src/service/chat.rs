//! `Chat`: the service for conversations, messages and read state. Its methods are split by
//! concern across `conversations.rs`, `messages.rs`, `lifecycle.rs`, `rooms.rs`, `contacts.rs`,
//! `read_state.rs` and `search.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use parlor_core::{ConversationId, Seq, UserId};

use parlor_store::Store;

use tokio::sync::Semaphore;

use crate::away::Away;
use crate::blob::Blobs;
use crate::bus::Hub;
use crate::config::{AttachmentLimits, Config, DmPolicy, Limits};

#[derive(Clone)]
pub struct Chat {
    pub(super) store: Arc<dyn Store>,
    pub(super) hub: Hub,
    pub(super) limits: Arc<Limits>,
    pub(super) dm_policy: DmPolicy,
    pub(super) allow_edit_delete: bool,
    pub(super) blobs: Blobs,
    pub(super) files: Arc<AttachmentLimits>,
    /// Images decoded at once (`attachments.image_decodes`): each holds up to
    /// `attachments.max_image_bytes` of pixels, so this bounds their memory; the rest queue.
    pub(super) thumbnail_permits: Arc<Semaphore>,
    /// Notification work running at once (see `notifications.rs`).
    pub(super) notify_permits: Arc<Semaphore>,
    /// Notifications stored go on to the channels beyond the sockets (push, email).
    pub(super) away: Away,
    /// Delivery receipts gathered from this node's connections, written every tick
    /// (`read_state.rs`): the newest message seq per conversation and member.
    pub(super) delivered: Arc<Mutex<HashMap<(ConversationId, UserId), Seq>>>,
}

impl Chat {
    pub fn new(store: Arc<dyn Store>, hub: Hub, blobs: Blobs, away: Away, config: &Config) -> Self {
        Self {
            away,
            blobs,
            files: Arc::new(config.attachments.clone()),
            thumbnail_permits: Arc::new(Semaphore::new(config.attachments.image_decodes)),
            notify_permits: Arc::new(Semaphore::new(4)),
            delivered: Arc::default(),
            store,
            hub,
            limits: Arc::new(config.limits.clone()),
            dm_policy: config.dm_policy,
            allow_edit_delete: config.allow_edit_delete,
        }
    }
}
