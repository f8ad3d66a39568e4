//! `[compat]`: which seeds' dialects are on, and the key of seed 004's ids.

use serde::Deserialize;

/// `[compat]`: the seeds whose own clients parlor answers in their dialect (`crate::compat`).
#[derive(Debug, Clone, Deserialize)]
pub struct CompatSettings {
    /// Any of "000", "002", "003", "004"; empty turns the layer off.
    pub seeds: Vec<String>,
    /// Keys the opaque ids of seed 004; empty: derived from `token_secret`, or a key made on
    /// first start in the data dir.
    pub id_secret: crate::config::Secret,
}

impl CompatSettings {
    /// The seeds the layer knows.
    pub const KNOWN: [&'static str; 4] = ["000", "002", "003", "004"];

    pub fn enabled(&self, seed: &str) -> bool {
        self.seeds.iter().any(|s| s == seed)
    }

    pub(crate) fn check(&self) -> Result<(), crate::config::ConfigError> {
        match self.seeds.iter().find(|s| !Self::KNOWN.contains(&s.as_str())) {
            Some(bad) => Err(crate::config::ConfigError::new(format!(
                "invalid setting `compat.seeds`: `{bad}` is not one of {}",
                Self::KNOWN.join(", ")
            ))),
            None => Ok(()),
        }
    }
}
