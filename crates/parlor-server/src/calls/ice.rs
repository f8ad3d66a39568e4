//! The ICE servers a client is given for a call, with TURN credentials minted per user by the
//! TURN REST scheme coturn checks with `use-auth-secret`: the username is
//! `"<unix expiry>:<user id>"` and the password `base64(HMAC-SHA1(static-auth-secret, username))`,
//! so coturn needs no database and a leaked pair expires on its own.

use base64::Engine;
use hmac::{Hmac, Mac};
use parlor_core::{Timestamp, UserId};
use parlor_protocol::{IceServerView, IceServers};
use sha1::Sha1;

use super::settings::CallSettings;

/// What kind of server a configured URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Stun,
    Turn,
}

pub fn scheme(url: &str) -> Option<Scheme> {
    let (scheme, rest) = url.split_once(':')?;
    if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    match scheme {
        "stun" | "stuns" => Some(Scheme::Stun),
        "turn" | "turns" => Some(Scheme::Turn),
        _ => None,
    }
}

/// The servers for `user`, TURN ones with credentials valid for `turn_ttl_secs` from now.
pub fn servers_for(settings: &CallSettings, user: UserId, now: Timestamp) -> IceServers {
    let of = |wanted: Scheme| -> Vec<String> {
        settings.ice_servers.iter().filter(|u| scheme(u) == Some(wanted)).cloned().collect()
    };
    let (stun, turn) = (of(Scheme::Stun), of(Scheme::Turn));
    let mut servers = Vec::new();
    if !stun.is_empty() {
        servers.push(IceServerView { urls: stun, username: None, credential: None });
    }
    if !turn.is_empty() {
        let (username, credential) = match settings.turn_secret.get() {
            Some(secret) => {
                let expiry = now.as_millis() / 1000 + settings.turn_ttl_secs as i64;
                let (u, c) = credentials(secret, user, expiry);
                (Some(u), Some(c))
            }
            None => (None, None),
        };
        servers.push(IceServerView { urls: turn, username, credential });
    }
    IceServers { ice_servers: servers, ttl_secs: settings.turn_ttl_secs }
}

/// coturn's REST credentials: valid until `expiry` (unix seconds).
pub fn credentials(secret: &str, user: UserId, expiry: i64) -> (String, String) {
    let username = format!("{expiry}:{}", user.0);
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_scheme() {
        // RFC 2202 test case 2 as a TURN username: key "Jefe", data "what do ya want for nothing?".
        let (username, password) = credentials("Jefe", UserId(7), 1_700_000_000);
        assert_eq!(username, "1700000000:7");
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"1700000000:7");
        assert_eq!(password, base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
        let mut known = <Hmac<Sha1> as Mac>::new_from_slice(b"Jefe").expect("key");
        known.update(b"what do ya want for nothing?");
        let digest: Vec<u8> = known.finalize().into_bytes().to_vec();
        assert_eq!(digest[..4], [0xef, 0xfc, 0xdf, 0x6a], "HMAC-SHA1 per RFC 2202");
    }

    #[test]
    fn urls_are_sorted_by_scheme() {
        assert_eq!(scheme("stun:turn.example.com:3478"), Some(Scheme::Stun));
        assert_eq!(scheme("turns:turn.example.com:5349?transport=tcp"), Some(Scheme::Turn));
        assert_eq!(scheme("https://example.com"), None);
        assert_eq!(scheme("turn:"), None);
    }
}
