//! How the seeds' clients name things. Users: by the platform's own id when parlor learns users
//! from the platform (host-app mode, introspection), since that is the id the platform's pages
//! hold; else by parlor's. Conversations and messages: parlor's integers, or for seed 004's
//! client UUID-shaped strings, a keyed permutation of the integer: stable, reversible only with
//! the key, and no one can make up the id of a conversation they were not given.
//!
//! Layout of the 16 bytes: the id's low 48 bits masked by a keyed function of the tag, then a
//! 74-bit tag (HMAC-SHA256 of the kind and the id) around the UUID version (4) and variant bits.

use hmac::{Hmac, Mac};
use parlor_core::User;
use serde::Serialize;
use sha2::Sha256;

/// What a conversation or message is called in a seed's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SeedId {
    Number(i64),
    Text(String),
}

/// An id as a client sends it: a number or a string.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum RawId {
    Number(i64),
    Text(String),
}

impl RawId {
    pub fn text(&self) -> String {
        match self {
            RawId::Number(n) => n.to_string(),
            RawId::Text(t) => t.clone(),
        }
    }
}

/// Which kind of thing an opaque id names: the same integer gives unrelated ids per kind.
#[derive(Clone, Copy)]
pub enum Kind {
    Conversation,
    Message,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Kind::Conversation => b"conversation",
            Kind::Message => b"message",
        }
    }
}

const ID_BITS_MAX: i64 = (1 << 48) - 1;

pub struct OpaqueIds {
    key: Vec<u8>,
}

impl OpaqueIds {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The tag bits of `id`, as they sit in the UUID (version and variant bits cleared).
    fn tag(&self, kind: Kind, id: i64) -> [u8; 10] {
        let full = self.mac(&[b"tag:", kind.label(), &id.to_be_bytes()]);
        let mut tag = [0u8; 10];
        tag.copy_from_slice(&full[..10]);
        tag[0] &= 0x0f;
        tag[2] &= 0x3f;
        tag
    }

    fn mask(&self, tag: &[u8; 10]) -> [u8; 6] {
        let full = self.mac(&[b"mask:", tag]);
        let mut mask = [0u8; 6];
        mask.copy_from_slice(&full[..6]);
        mask
    }

    /// The UUID-shaped name of `id`; `None` for an id beyond 48 bits (281 trillion).
    pub fn encode(&self, kind: Kind, id: i64) -> Option<String> {
        if !(0..=ID_BITS_MAX).contains(&id) {
            return None;
        }
        let tag = self.tag(kind, id);
        let mask = self.mask(&tag);
        let low = id.to_be_bytes();
        let mut b = [0u8; 16];
        for i in 0..6 {
            b[i] = low[i + 2] ^ mask[i];
        }
        b[6] = 0x40 | tag[0];
        b[7] = tag[1];
        b[8] = 0x80 | tag[2];
        b[9..16].copy_from_slice(&tag[3..10]);
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Some(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
    }

    /// The integer a UUID-shaped name stands for; `None` for anything this key did not make.
    pub fn decode(&self, kind: Kind, raw: &str) -> Option<i64> {
        let hex: String = raw.chars().filter(|c| *c != '-').collect();
        if raw.len() != 36 || hex.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        if b[6] & 0xf0 != 0x40 || b[8] & 0xc0 != 0x80 {
            return None;
        }
        let mut tag = [0u8; 10];
        tag[0] = b[6] & 0x0f;
        tag[1] = b[7];
        tag[2] = b[8] & 0x3f;
        tag[3..10].copy_from_slice(&b[9..16]);
        let mask = self.mask(&tag);
        let mut low = [0u8; 8];
        for i in 0..6 {
            low[i + 2] = b[i] ^ mask[i];
        }
        let id = i64::from_be_bytes(low);
        // Constant time is not needed: a wrong guess learns nothing but "no".
        (self.tag(kind, id) == tag).then_some(id)
    }
}

/// Whether `raw` looks like a UUID (8-4-4-4-12 hex digits).
pub fn uuid_shaped(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// A user's id as the seeds' clients know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum UserRef {
    Number(i64),
    Text(String),
}

/// `platform`: parlor learns users from the platform, whose ids its pages hold.
pub fn user_ref(user: &User, platform: bool) -> UserRef {
    match user.external_id.as_deref().filter(|_| platform) {
        Some(external) => external.parse().map(UserRef::Number).unwrap_or_else(|_| UserRef::Text(external.to_owned())),
        None => UserRef::Number(user.id.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_round_trip_and_refuse_forgeries() {
        let ids = OpaqueIds::new(b"k".to_vec());
        for id in [0, 1, 2, 41, 1 << 40, ID_BITS_MAX] {
            let name = ids.encode(Kind::Conversation, id).unwrap();
            assert!(uuid_shaped(&name), "{name}");
            assert_eq!(ids.decode(Kind::Conversation, &name), Some(id));
            assert_eq!(ids.decode(Kind::Message, &name), None, "kinds do not mix");
            assert_eq!(OpaqueIds::new(b"other".to_vec()).decode(Kind::Conversation, &name), None);
        }
        assert_ne!(ids.encode(Kind::Conversation, 1), ids.encode(Kind::Conversation, 2));
        assert_eq!(ids.encode(Kind::Conversation, -1), None);
        let name = ids.encode(Kind::Message, 7).unwrap();
        let mut flipped = name.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(ids.decode(Kind::Message, std::str::from_utf8(&flipped).unwrap()), None);
        assert_eq!(ids.decode(Kind::Message, "not-a-uuid"), None);
    }
}
