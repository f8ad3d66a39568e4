//! Argon2id password hashing, off the async threads and behind a semaphore: each hash takes
//! ~19 MiB and tens of milliseconds, so a burst of logins must queue, not exhaust the machine.
//!
//! Each permit comes with a working buffer that is kept and reused (argon2's `*_with_memory`),
//! never freed: allocating ~19 MiB per hash made glibc raise its mmap threshold and keep the
//! freed blocks in per-thread arenas, so a burst of logins left the process hundreds of MiB
//! larger for good (issue 17, item 11). Every verification runs a full hash, also for a
//! username that does not exist (against a decoy), so timing does not tell which names exist.

use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use parlor_core::Password;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// A working buffer for one Argon2 call, grown to the parameters' size once and then reused.
type Memory = Vec<Block>;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// One buffer per permit at most: a job takes one while it runs and puts it back.
    buffers: Arc<Mutex<Vec<Memory>>>,
    /// Verified against when a username does not exist, so a login takes as long either way.
    decoy_hash: Arc<str>,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let mut memory = Memory::new();
        let decoy = hash_with(b"decoy password, never matches", &mut memory)
            .map_err(|e| anyhow::anyhow!("argon2 self-test failed: {e}"))?;
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            permits: Arc::new(Semaphore::new(parallel)),
            buffers: Arc::new(Mutex::new(vec![memory])),
            decoy_hash: decoy.into(),
        })
    }

    pub async fn hash(&self, password: Password) -> ApiResult<String> {
        self.blocking(move |memory| {
            hash_with(password.expose().as_bytes(), memory).map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                ApiError::internal()
            })
        })
        .await
    }

    /// True when `password` matches `hash`; with no hash, checks a decoy and returns false.
    /// Either way one full Argon2 computation runs.
    pub async fn verify(&self, password: Password, hash: Option<String>) -> ApiResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy_hash.to_string());
        let matches = self
            .blocking(move |memory| {
                verify_with(&hash, password.expose().as_bytes(), memory).map_err(|e| {
                    tracing::error!(error = %e, "stored password hash is unusable");
                    ApiError::internal()
                })
            })
            .await?;
        // The work is done before `known` is looked at: nothing may short-circuit it.
        Ok(matches && known)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        // The permit moves into the blocking job: a client that hangs up must not free the slot
        // while its hash is still running.
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| ApiError::internal())?;
        let buffers = self.buffers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // A permit holder always finds a buffer once the first of each has been made; the
            // lock is held only to take or return one, never while hashing.
            let mut memory = buffers.lock().map(|mut b| b.pop()).unwrap_or_default().unwrap_or_default();
            let result = work(&mut memory);
            if let Ok(mut kept) = buffers.lock() {
                kept.push(memory);
            }
            result
        })
        .await
        .map_err(|_| ApiError::internal())?
    }
}

/// A PHC string (`$argon2id$v=19$m=...`) for `password` with a fresh salt and the default
/// parameters, computed in `memory`.
fn hash_with(password: &[u8], memory: &mut Memory) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut raw_salt)?;
    let argon = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, password, raw_salt, &mut out, memory)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to the PHC string `hash` (under that hash's own algorithm, version
/// and parameters), computed in `memory`; compared in constant time.
fn verify_with(hash: &str, password: &[u8], memory: &mut Memory) -> Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(hash)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(argon2::password_hash::Error::PhcStringField);
    };
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut raw_salt)?;
    let mut out = vec![0u8; expected.len()];
    compute(&Argon2::new(algorithm, version, params), password, raw_salt, &mut out, memory)?;
    Ok(Output::new(&out)? == expected)
}

fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> argon2::Result<()> {
    let needed = argon.params().block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    argon.hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_the_crates_own_phc_strings_both_ways() {
        let mut memory = Memory::new();
        let ours = hash_with(b"correct horse", &mut memory).unwrap_or_default();
        let parsed = PasswordHash::new(&ours).unwrap_or_else(|e| panic!("{e}"));
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok(), "{ours}");
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"battery staple", &salt).map(|h| h.to_string());
        let theirs = theirs.unwrap_or_default();
        assert_eq!(verify_with(&theirs, b"battery staple", &mut memory).ok(), Some(true));
        assert_eq!(verify_with(&theirs, b"battery stapler", &mut memory).ok(), Some(false));
        // Older hashes with other parameters still verify, in a buffer that grows to fit.
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap_or_default());
        let small = small.hash_password(b"pw123456", &salt).map(|h| h.to_string()).unwrap_or_default();
        assert_eq!(verify_with(&small, b"pw123456", &mut Memory::new()).ok(), Some(true));
    }
}
