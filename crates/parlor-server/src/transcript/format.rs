//! The transcript file: JSON lines. The first is the [`Header`], then one [`EventLine`] per
//! event in seq order, and last the [`SignatureLine`], whose Ed25519 signature covers every
//! byte before it (the header and event lines with their newlines).

use serde::{Deserialize, Serialize};

/// What the header's `format` says.
pub const FORMAT: &str = "parlor-transcript/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format: String,
    pub conversation_id: i64,
    /// `direct` or `room`.
    pub kind: String,
    pub title: Option<String>,
    /// Current members when it was exported.
    pub members: Vec<MemberLine>,
    /// RFC 3339.
    pub exported_at: String,
    /// The signing key, 32 bytes in hex.
    pub public_key: String,
    /// How many event lines follow, and their first and last seq.
    pub events: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The `prev_hash` of the first event: 64 zeros when the transcript starts at the
    /// conversation's first event; `null` when the events before it are gone.
    pub anchor: Option<String>,
    /// The last event's hash: the conversation's head when it was exported.
    pub head: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MemberLine {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventLine {
    pub seq: i64,
    pub kind: String,
    /// Exactly the string the hash committed to (a JSON object: `actor_id`, `at` in Unix
    /// milliseconds, `data`, `message_id`); `null` for events logged before the chain began.
    pub metadata: Option<String>,
    pub content_hash: Option<String>,
    pub hash: Option<String>,
    /// The content the event carried (a message's text; `""` for other events), or `null`
    /// when withheld.
    pub content: Option<String>,
    /// Why `content` is `null`: `deleted` (the message was deleted since) or `erased` (the
    /// server no longer has content matching the hash: erasure or retention).
    pub withheld: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignatureLine {
    pub algorithm: String,
    /// 64 bytes in hex.
    pub signature: String,
}
