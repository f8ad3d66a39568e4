//! The hash chain of a conversation's event log (issue #24; docs/transcripts.md has the
//! format and a verifier in a few lines of Python). Each event commits to a hash of its content
//! and to the previous event's hash, so erasing content later leaves the chain checkable, and
//! changing, dropping or reordering any event breaks every link after it.
//!
//! ```text
//! content_hash = SHA-256(content as UTF-8)          (content: a message's text, else "")
//! hash         = SHA-256(prev_hash ‖ seq as 8 bytes big-endian
//!                        ‖ len(kind) as 4 bytes BE ‖ kind ‖ len(metadata) as 4 bytes BE ‖ metadata
//!                        ‖ content_hash)
//! ```
//! `prev_hash` is the previous event's `hash`, or 32 zero bytes for the first chained event.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Digest32 = [u8; 32];

/// The `prev_hash` of a conversation's first chained event.
pub const GENESIS: Digest32 = [0; 32];

/// What an event's content commits to.
pub fn content_hash(content: &str) -> Digest32 {
    Sha256::digest(content.as_bytes()).into()
}

/// An event's link in the chain.
pub fn link(prev: &Digest32, seq: i64, kind: &str, metadata: &str, content_hash: &Digest32) -> Digest32 {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    for part in [kind, metadata] {
        // Lengths first, so no two different (kind, metadata) pairs hash alike.
        h.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update(content_hash);
    h.finalize().into()
}

/// Lowercase hex, as the store and transcripts write digests.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char]).collect()
}

/// A digest from 64 hex digits (either case); `None` for anything else.
pub fn from_hex(text: &str) -> Option<Digest32> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let d = content_hash("hello");
        assert_eq!(to_hex(&d), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(from_hex(&to_hex(&d)), Some(d));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn every_part_of_a_link_counts() {
        let c = content_hash("hi");
        let base = link(&GENESIS, 1, "message_created", "{}", &c);
        assert_ne!(base, link(&GENESIS, 2, "message_created", "{}", &c));
        assert_ne!(base, link(&GENESIS, 1, "message_edited", "{}", &c));
        assert_ne!(base, link(&GENESIS, 1, "message_created", "{ }", &c));
        assert_ne!(base, link(&GENESIS, 1, "message_created", "{}", &content_hash("ho")));
        assert_ne!(base, link(&base, 1, "message_created", "{}", &c));
        // Moving bytes between kind and metadata changes the hash (lengths are hashed).
        assert_ne!(link(&GENESIS, 1, "ab", "c", &c), link(&GENESIS, 1, "a", "bc", &c));
    }
}
