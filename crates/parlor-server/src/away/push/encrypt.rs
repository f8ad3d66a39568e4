//! Web Push payload encryption (RFC 8291) in the `aes128gcm` content coding (RFC 8188): a
//! fresh P-256 key pair and salt per message, ECDH with the browser's key, HKDF-SHA256 mixed with
//! the browser's auth secret, one AES-128-GCM record.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// The record size written in the header: one record holds the whole payload.
const RECORD_SIZE: u32 = 4096;
/// Longest plaintext one record takes (the record size less the tag and the delimiter).
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - 16 - 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptError {
    #[error("p256dh is not a base64url uncompressed P-256 point")]
    BadKey,
    #[error("auth is not a base64url 16-byte secret")]
    BadAuth,
    #[error("payload too long for one record")]
    TooLong,
}

/// The browser's keys from `PushSubscription.toJSON().keys`, checked.
#[derive(Clone)]
pub struct BrowserKeys {
    public: PublicKey,
    auth: [u8; 16],
}

impl BrowserKeys {
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, EncryptError> {
        let point = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).map_err(|_| EncryptError::BadKey)?;
        if point.len() != 65 || point[0] != 4 {
            return Err(EncryptError::BadKey);
        }
        let public = PublicKey::from_sec1_bytes(&point).map_err(|_| EncryptError::BadKey)?;
        let auth = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).map_err(|_| EncryptError::BadAuth)?;
        let auth: [u8; 16] = auth.try_into().map_err(|_| EncryptError::BadAuth)?;
        Ok(Self { public, auth })
    }
}

/// The request body: the `aes128gcm` header (salt, record size, our public key) and the one
/// encrypted record.
pub fn encrypt(plaintext: &[u8], to: &BrowserKeys) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLong);
    }
    let ours = random_secret();
    let our_public = ours.public_key().to_encoded_point(false);
    let their_public = to.public.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ours.to_nonzero_scalar(), to.public.as_affine());

    // RFC 8291 §3.4: the input keying material, bound to both public keys and the auth secret.
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(their_public.as_bytes());
    key_info.extend_from_slice(our_public.as_bytes());
    let mut ikm = [0u8; 32];
    expand(Hkdf::<Sha256>::new(Some(&to.auth), shared.raw_secret_bytes()), &key_info, &mut ikm);

    // RFC 8188 §2.2: the content-encryption key and nonce from a fresh salt.
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    expand(prk.clone(), b"Content-Encoding: aes128gcm\0", &mut cek);
    expand(prk, b"Content-Encoding: nonce\0", &mut nonce);

    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2); // the last (and only) record's delimiter, no padding
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| EncryptError::TooLong)?;
    let sealed = cipher.encrypt(&Nonce::from(nonce), record.as_slice()).map_err(|_| EncryptError::TooLong)?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(our_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// A fresh P-256 secret key from the thread's CSPRNG (a random 32 bytes is a valid scalar but
/// for a chance of about 2^-32; those are drawn again).
pub fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

fn expand(hkdf: Hkdf<Sha256>, info: &[u8], out: &mut [u8]) {
    // Lengths here (16, 12, 32) are far below HKDF-SHA256's limit of 8160 bytes.
    if hkdf.expand(info, out).is_err() {
        out.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_browser_keys_are_refused() {
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        assert_eq!(BrowserKeys::parse("not base64!", &auth).err(), Some(EncryptError::BadKey));
        assert_eq!(BrowserKeys::parse(&URL_SAFE_NO_PAD.encode([4u8; 65]), &auth).err(), Some(EncryptError::BadKey));
        let point = random_secret().public_key().to_encoded_point(false);
        let key = URL_SAFE_NO_PAD.encode(point.as_bytes());
        assert_eq!(BrowserKeys::parse(&key, "c2hvcnQ").err(), Some(EncryptError::BadAuth));
        let keys = BrowserKeys::parse(&key, &auth).expect("valid keys");
        let body = encrypt(b"hello", &keys).expect("encrypts");
        assert_eq!(body.len(), 16 + 4 + 1 + 65 + 5 + 1 + 16, "header, record, delimiter, tag");
        assert_eq!(encrypt(&[0; MAX_PLAINTEXT + 1], &keys).err(), Some(EncryptError::TooLong));
    }
}
