//! Hash-chaining events as they are appended ([`parlor_core::chain`], docs/transcripts.md):
//! every path that logs an event computes its link here, in the transaction that numbers it,
//! from the conversation's `last_event_hash`, read under the same lock as `last_event_seq`.
//! So the chain follows the conversation's seq order on every backend and across nodes.

use parlor_core::chain::{self, Digest32, GENESIS};
use parlor_store::StoreResult;

use crate::rows::corrupt;

/// What an event row stores of the chain.
#[derive(Debug, Clone)]
pub struct Link {
    pub content_hash: String,
    pub metadata: String,
    /// The event's own link, and the conversation's next `last_event_hash`.
    pub hash: String,
    pub digest: Digest32,
}

/// The event's fields besides seq, kind and content, as the chain commits to them: a JSON
/// object with its keys in this order, stored as written (verifiers hash the stored string).
pub fn metadata(message_id: Option<i64>, actor_id: Option<i64>, at_ms: i64, data: Option<&str>) -> String {
    let quoted = data.map_or_else(|| "null".to_owned(), |d| serde_json::Value::from(d).to_string());
    let number = |n: Option<i64>| n.map_or_else(|| "null".to_owned(), |n| n.to_string());
    format!(
        "{{\"actor_id\":{},\"at\":{at_ms},\"data\":{quoted},\"message_id\":{}}}",
        number(actor_id),
        number(message_id)
    )
}

/// The previous link: the conversation's `last_event_hash`, or the genesis value when it has
/// none (a new conversation, or one whose events predate the chain).
pub fn previous(last_event_hash: Option<&str>) -> StoreResult<Digest32> {
    match last_event_hash {
        None => Ok(GENESIS),
        Some(hex) => chain::from_hex(hex).ok_or_else(|| corrupt(format!("malformed last_event_hash {hex:?}"))),
    }
}

/// The link of the event `seq` of kind `kind` after `prev`.
pub fn link(prev: &Digest32, seq: i64, kind: &str, metadata: String, content: &str) -> Link {
    let content_hash = chain::content_hash(content);
    let digest = chain::link(prev, seq, kind, &metadata, &content_hash);
    Link { content_hash: chain::to_hex(&content_hash), metadata, hash: chain::to_hex(&digest), digest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_plain_json_in_a_fixed_order() {
        let m = metadata(Some(4), None, 17, Some("{\"up_to\":3}"));
        assert_eq!(m, r#"{"actor_id":null,"at":17,"data":"{\"up_to\":3}","message_id":4}"#);
        let parsed: serde_json::Value = serde_json::from_str(&m).unwrap_or_default();
        assert_eq!(parsed["data"], "{\"up_to\":3}");
    }
}
