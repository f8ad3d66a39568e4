//! Values of the data-rights writes: erasing an account, the retention sweep.

use parlor_core::{ConversationEvent, ConversationId, StoredAttachment};

/// What happens to an erased account's messages (`privacy.erasure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureMode {
    /// Content, files and earlier versions go; a tombstone keeps the message's seq and its place
    /// in threads.
    Delete,
    /// Content stays, shown as written by "Deleted user".
    Anonymize,
}

/// What an erasure changed, for the caller to finish outside the database.
#[derive(Debug, Clone, Default)]
pub struct Erasure {
    /// Attachments whose rows went: their files are to be removed from blob storage.
    pub files: Vec<StoredAttachment>,
    /// `MessageDeleted` events logged for erased messages, to publish.
    pub events: Vec<ConversationEvent>,
    /// Conversations whose members changed (member lists cached elsewhere are stale).
    pub conversations: Vec<ConversationId>,
    /// Blob keys of the user's export archives, whose rows went: to delete.
    pub exports: Vec<String>,
}

/// One batch of the retention sweep.
#[derive(Debug, Clone, Default)]
pub struct Swept {
    /// Attachments whose rows went with their messages: files to remove.
    pub files: Vec<StoredAttachment>,
    /// One `MessageDeleted` event per erased message, to publish.
    pub events: Vec<ConversationEvent>,
}
