//! The platform's JSON Web Key Set (`host_tokens.jwks_url`): fetched through the outbound
//! guard on first use, cached, and fetched again when a token names a key id the cache lacks
//! (the platform rotated its keys) or the set is older than [`MAX_AGE`] (a key it withdrew
//! stops working). One fetch at a time, at most one per [`REFETCH_MIN`], so tokens naming
//! made-up key ids cannot turn parlor against the platform's key server. A failed fetch keeps
//! the keys already known.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use serde::Deserialize;
use tokio::time::Instant;

use super::settings::HostAlgorithm;
use crate::outbound::{Outbound, Target};

/// A set older than this is fetched again before use.
const MAX_AGE: Duration = Duration::from_secs(3600);
/// The least time between two fetches, whatever tokens arrive.
const REFETCH_MIN: Duration = Duration::from_secs(2);
/// Largest key set read; real ones are a few KiB.
const MAX_BYTES: usize = 256 * 1024;

pub struct Jwks {
    client: Outbound,
    target: Target,
    algorithm: HostAlgorithm,
    /// The keys as last fetched; replaced whole, never held across an await.
    known: RwLock<Arc<KeySet>>,
    /// Held while fetching, so tasks that find the same gap wait for one fetch and reuse it.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<(Option<String>, Arc<DecodingKey>)>,
    /// When these keys were fetched; `None` before the first success.
    fetched: Option<Instant>,
    /// When a fetch was last tried, successful or not.
    tried: Option<Instant>,
}

/// Why no key could be found for a token.
#[derive(Debug, PartialEq, Eq)]
pub enum NoKey {
    /// The set (fetched again if allowed) has no key with the token's key id.
    Unknown,
    /// The set could never be fetched.
    Unavailable,
}

impl Jwks {
    pub fn new(client: Outbound, target: Target, algorithm: HostAlgorithm) -> Self {
        Self { client, target, algorithm, known: RwLock::default(), fetching: tokio::sync::Mutex::default() }
    }

    /// The keys that may have signed a token naming `kid` (all of them when it names none).
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<Vec<Arc<DecodingKey>>, NoKey> {
        let set = self.snapshot();
        if set.is_fresh()
            && let Some(found) = set.find(kid)
        {
            return Ok(found);
        }
        let _one_fetch = self.fetching.lock().await;
        let set = self.snapshot();
        let may_fetch = set.tried.is_none_or(|at| at.elapsed() >= REFETCH_MIN);
        let set = if may_fetch { self.fetch(&set).await } else { set };
        match set.find(kid) {
            Some(found) => Ok(found),
            None if set.fetched.is_none() => Err(NoKey::Unavailable),
            None => Err(NoKey::Unknown),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.known.read().map(|set| set.clone()).unwrap_or_default()
    }

    /// Fetches the set; on failure keeps `old`'s keys (noting the attempt).
    async fn fetch(&self, old: &KeySet) -> Arc<KeySet> {
        let now = Instant::now();
        let set = match self.download().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "fetched the platform's key set (host_tokens.jwks_url)");
                KeySet { keys, fetched: Some(now), tried: Some(now) }
            }
            Err(why) => {
                tracing::warn!(error = %why, "cannot fetch the platform's key set (host_tokens.jwks_url)");
                KeySet { keys: old.keys.clone(), fetched: old.fetched, tried: Some(now) }
            }
        };
        let set = Arc::new(set);
        if let Ok(mut known) = self.known.write() {
            *known = set.clone();
        }
        set
    }

    async fn download(&self) -> Result<Vec<(Option<String>, Arc<DecodingKey>)>, String> {
        let request = self.client.get(&self.target).header("accept", "application/json");
        let body = Outbound::answer(request, MAX_BYTES).await?;
        // Keys are read one by one, so one of a kind parlor cannot use does not hide the others.
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = serde_json::from_slice(&body).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .filter(|jwk| self.fits(jwk))
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                Some((jwk.common.key_id, Arc::new(key)))
            })
            .collect())
    }

    /// A signing key of the configured algorithm's kind.
    fn fits(&self, jwk: &Jwk) -> bool {
        let for_signing = matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
        let algorithm = jwk.common.key_algorithm.is_none_or(|a| a.to_string() == self.algorithm.name());
        let kind = match (&jwk.algorithm, self.algorithm) {
            (AlgorithmParameters::RSA(_), HostAlgorithm::RS256) => true,
            (AlgorithmParameters::EllipticCurve(ec), HostAlgorithm::ES256) => ec.curve == EllipticCurve::P256,
            _ => false,
        };
        for_signing && algorithm && kind
    }
}

impl KeySet {
    fn is_fresh(&self) -> bool {
        self.fetched.is_some_and(|at| at.elapsed() < MAX_AGE)
    }

    /// The key named `kid`, or every key when the token names none; `None` when nothing fits.
    fn find(&self, kid: Option<&str>) -> Option<Vec<Arc<DecodingKey>>> {
        let found: Vec<_> = match kid {
            Some(kid) => {
                self.keys.iter().filter(|(id, _)| id.as_deref() == Some(kid)).map(|(_, k)| k.clone()).collect()
            }
            None => self.keys.iter().map(|(_, k)| k.clone()).collect(),
        };
        (!found.is_empty()).then_some(found)
    }
}
