//! Argon2id password hashing, off the async threads and behind a semaphore: each hash takes
//! ~19 MiB and tens of milliseconds, so a burst of logins must queue, not exhaust the machine.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use parlor_core::Password;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when a username does not exist, so a login takes as long either way.
    decoy_hash: Arc<str>,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let salt = SaltString::generate(&mut OsRng);
        let decoy = Argon2::default()
            .hash_password(b"decoy password, never matches", &salt)
            .map_err(|e| anyhow::anyhow!("argon2 self-test failed: {e}"))?
            .to_string();
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self { permits: Arc::new(Semaphore::new(parallel)), decoy_hash: decoy.into() })
    }

    pub async fn hash(&self, password: Password) -> ApiResult<String> {
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(password.expose().as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                ApiError::internal()
            })
        })
        .await
    }

    /// True when `password` matches `hash`; with no hash, checks a decoy and returns false.
    pub async fn verify(&self, password: Password, hash: Option<String>) -> ApiResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy_hash.to_string());
        self.blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| {
                tracing::error!(error = %e, "stored password hash is unreadable");
                ApiError::internal()
            })?;
            Ok(known && Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
        })
        .await
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
        // The permit moves into the blocking job: a client that hangs up must not free the slot
        // while its hash is still running.
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| ApiError::internal())?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| ApiError::internal())?
    }
}
