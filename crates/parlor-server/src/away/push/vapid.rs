//! VAPID (RFC 8292): the P-256 key pair that identifies this server to push services. The
//! browser subscribed with its public key, so a push service accepts only requests signed with
//! the private one: `push.vapid_private_key` (shared by several nodes), else a key made at first
//! start and kept in the data dir.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

/// File in the data dir holding the generated key (base64url of the 32-byte private scalar).
const KEY_FILE: &str = "vapid_private_key";
/// How long a signed token is good for: RFC 8292 allows at most 24 hours.
const TOKEN_SECS: i64 = 12 * 60 * 60;

pub struct Vapid {
    key: SigningKey,
    /// The uncompressed public point, base64url: what browsers pass as `applicationServerKey`.
    public_key: String,
    /// `push.subject`: a `mailto:` or `https:` contact for the push service's operator.
    subject: String,
}

impl Vapid {
    /// The configured key, else the data dir's, else a new one written there.
    pub fn load(configured: Option<&str>, data_dir: &Path, subject: &str) -> anyhow::Result<Self> {
        let encoded = match configured {
            Some(key) => key.trim().to_owned(),
            None => read_or_create(&data_dir.join(KEY_FILE))?,
        };
        let raw = URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .context("`push.vapid_private_key` is not base64url")?;
        let key = SigningKey::from_slice(&raw)
            .context("`push.vapid_private_key` is not a P-256 private key (32 bytes, base64url)")?;
        let point = key.verifying_key().to_encoded_point(false);
        Ok(Self { public_key: URL_SAFE_NO_PAD.encode(point.as_bytes()), key, subject: subject.to_owned() })
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a request to `origin` (the endpoint's scheme, host and
    /// port): `vapid t=<ES256 JWT>, k=<public key>`.
    pub fn authorization(&self, origin: &str, now_secs: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({"aud": origin, "exp": now_secs + TOKEN_SECS, "sub": self.subject});
        let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.key.sign(signed.as_bytes());
        format!("vapid t={signed}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public_key)
    }
}

fn read_or_create(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(key) => return Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let key = URL_SAFE_NO_PAD.encode(super::encrypt::random_secret().to_bytes());
    write_private(path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "made a VAPID key for Web Push");
    // Another process starting at the same time may have written first: its key is the one.
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Written readable by the owner only, and never over an existing file (another process that
/// started at the same time keeps its key; we read it).
fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => file.write_all(key.as_bytes()).and_then(|()| file.sync_all()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
