//! What a signed transcript is read from: a conversation's events as the hash chain holds them.

/// An event of a conversation's log as its hash chain holds it (`parlor_core::chain`), with
/// the content it committed to when the store still has it: what a signed transcript is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub seq: parlor_core::Seq,
    pub kind: String,
    pub message_id: Option<parlor_core::MessageId>,
    /// `None` for events logged before the chain began (no metadata, content hash or hash).
    pub metadata: Option<String>,
    pub content_hash: Option<String>,
    pub hash: Option<String>,
    /// For `message_created` and `message_edited`: the text the event carried, from the
    /// message and its kept versions; `None` when the store no longer has it.
    pub content: Option<String>,
    /// The event's message was deleted since.
    pub message_deleted: bool,
    /// ...and by an erasure (its owner's account erased, or retention), not an ordinary delete:
    /// its `message_deleted` event says `"erased": true`.
    pub message_erased: bool,
}
