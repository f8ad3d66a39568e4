//! The unsubscribe token of a mail's `List-Unsubscribe` link: `<user id>.<signature>`, an
//! HMAC-SHA256 (cut to 128 bits) of the user id under a key derived from the token key, so it
//! needs no login, names only its user, cannot be made for anyone else, and stays valid as long
//! as the token key (links in old mails keep working). It can only turn email off.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use parlor_core::UserId;
use sha2::Sha256;

/// What the key is derived for ([`crate::auth::Tokens::derived_key`]).
pub const KEY_PURPOSE: &str = "parlor email unsubscribe v1";
/// Signature bytes kept: 128 bits resist guessing as well as the whole.
const SIGNATURE_BYTES: usize = 16;

pub struct UnsubscribeKey([u8; 32]);

impl UnsubscribeKey {
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, user: UserId) -> Hmac<Sha256> {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) else {
            unreachable!("an HMAC key of any length is accepted")
        };
        mac.update(user.0.to_string().as_bytes());
        mac
    }

    /// The token for `user`'s links.
    pub fn token(&self, user: UserId) -> String {
        let signature = self.mac(user).finalize().into_bytes();
        format!("{}.{}", user.0, URL_SAFE_NO_PAD.encode(&signature[..SIGNATURE_BYTES]))
    }

    /// The user a token names, if this key signed it (compared in constant time).
    pub fn verify(&self, token: &str) -> Option<UserId> {
        let (text, signature) = token.split_once('.')?;
        // Only the id as `token` writes it: `007` is not a second spelling of user 7's token.
        let id: i64 = text.parse().ok().filter(|id: &i64| *id > 0 && id.to_string() == text)?;
        let user = UserId(id);
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        if signature.len() != SIGNATURE_BYTES {
            return None;
        }
        self.mac(user).verify_truncated_left(&signature).ok().map(|()| user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_and_nothing_else_passes() {
        let key = UnsubscribeKey::new([7; 32]);
        let token = key.token(UserId(42));
        assert_eq!(key.verify(&token), Some(UserId(42)));
        let (_, signature) = token.split_once('.').expect("id.signature");
        assert_eq!(key.verify(&format!("43.{signature}")), None, "another user's id");
        assert_eq!(key.verify(&format!("042.{signature}")), None, "the id spelt otherwise");
        assert_eq!(UnsubscribeKey::new([8; 32]).verify(&token), None, "another server's key");
        for bad in ["", "42", "42.", ".abc", "x.abc", "42.!!", "-1.abc"] {
            assert_eq!(key.verify(bad), None, "{bad:?}");
        }
    }
}
