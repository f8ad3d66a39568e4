//! The server's transcript signing key: an Ed25519 key whose 32-byte seed lives in a file
//! (`transcripts.signing_key_file`, by default `transcript-signing.key` in the data directory),
//! generated at first start and readable by the server's user only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ed25519_dalek::{Signer, SigningKey};
use parlor_core::chain::to_hex;
use rand::RngCore;

/// `[transcripts]` in the configuration.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TranscriptSettings {
    /// The signing key's file (its 32-byte seed, hex); empty: `transcript-signing.key` in
    /// `data_dir`. Generated at first start when missing.
    pub signing_key_file: String,
}

impl TranscriptSettings {
    /// Where the key lives, for a server whose data directory is `data_dir`.
    pub fn key_path(&self, data_dir: &Path) -> PathBuf {
        match self.signing_key_file.as_str() {
            "" => data_dir.join("transcript-signing.key"),
            file => PathBuf::from(file),
        }
    }
}

pub struct TranscriptKey {
    signing: SigningKey,
}

impl std::fmt::Debug for TranscriptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptKey").field("public", &self.public_hex()).finish_non_exhaustive()
    }
}

impl TranscriptKey {
    /// Reads the key at `path`, or makes one there when there is no file.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{}\n", to_hex(&seed)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("cannot write the transcript signing key {}", path.display()))?;
                tracing::info!(path = %path.display(), "transcript signing key generated");
                Ok(Self { signing: SigningKey::from_bytes(&seed) })
            }
            // Another node (or an earlier start) made it: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path),
            Err(e) => Err(e).with_context(|| format!("cannot create the transcript signing key {}", path.display())),
        }
    }

    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the transcript signing key {}", path.display()))?;
        let Some(seed) = parlor_core::chain::from_hex(text.trim()) else {
            bail!("{} is not a transcript signing key (64 hex digits)", path.display());
        };
        Ok(Self { signing: SigningKey::from_bytes(&seed) })
    }

    pub fn public_hex(&self) -> String {
        to_hex(self.signing.verifying_key().as_bytes())
    }

    /// The signature of `bytes`, in hex.
    pub fn sign_hex(&self, bytes: &[u8]) -> String {
        to_hex(&self.signing.sign(bytes).to_bytes())
    }
}
