//! Asking the host platform who one of its users is (`host_users.user_info_url`), when a client
//! names someone parlor has never seen ("Chat with 42"): one GET through the outbound-address
//! guard, answered with `{"name", "avatar"}`. Anything but a usable answer is no answer: the user
//! is created with a placeholder name, which their first token or an upsert replaces.

use std::time::Duration;

use anyhow::Context;
use parlor_core::{AvatarUrl, DisplayName, ExternalId};
use serde::Deserialize;

use crate::config::Config;
use crate::outbound::Outbound;

const PLACEHOLDER: &str = "{external_id}";
/// A name and a picture link fit in far less; a larger answer is not one.
const MAX_BYTES: usize = 64 * 1024;

/// What the platform said of a user.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PlatformProfile {
    pub name: Option<DisplayName>,
    pub avatar: Option<AvatarUrl>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

pub struct UserInfo {
    client: Outbound,
    template: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl UserInfo {
    /// `None` without a URL; an error naming the setting for a URL that can never work (no
    /// `{external_id}` in it, not http(s), or a private address without the setting).
    pub async fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let settings = &config.host_users;
        let template = settings.user_info_url.trim();
        if template.is_empty() {
            return Ok(None);
        }
        if !template.contains(PLACEHOLDER) {
            anyhow::bail!("invalid setting `host_users.user_info_url`: put `{PLACEHOLDER}` where the user's id goes");
        }
        let client = Outbound::new(&settings.outbound()).context("cannot set up user-info requests")?;
        client
            .vet(&template.replace(PLACEHOLDER, "id"))
            .await
            .map_err(|why| anyhow::anyhow!("invalid setting `host_users.user_info_url`: {why}"))?;
        Ok(Some(Self {
            client,
            template: template.to_owned(),
            api_key: config.api_key.get().map(str::to_owned),
            timeout: Duration::from_millis(settings.timeout_ms),
        }))
    }

    /// The platform's name and picture for `id`; empty when it does not say (in time).
    pub async fn lookup(&self, id: &ExternalId) -> PlatformProfile {
        match tokio::time::timeout(self.timeout, self.ask(id)).await {
            Ok(Ok(profile)) => profile,
            Ok(Err(why)) => {
                tracing::warn!(error = %why, "the platform did not say who a user is (host_users.user_info_url)");
                PlatformProfile::default()
            }
            Err(_) => {
                tracing::warn!("the platform did not answer in time (host_users.user_info_url)");
                PlatformProfile::default()
            }
        }
    }

    async fn ask(&self, id: &ExternalId) -> anyhow::Result<PlatformProfile> {
        let encoded: String = url::form_urlencoded::byte_serialize(id.as_str().as_bytes()).collect();
        let target = self.client.target(&self.template.replace(PLACEHOLDER, &encoded))?;
        let mut request = self.client.get(&target).header("accept", "application/json");
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let body = Outbound::answer(request, MAX_BYTES).await.map_err(|e| anyhow::anyhow!(e))?;
        let answer: Answer = serde_json::from_slice(&body).context("not a JSON object with `name` and `avatar`")?;
        Ok(PlatformProfile {
            name: answer.name.as_deref().and_then(DisplayName::lenient),
            avatar: answer.avatar.as_deref().and_then(|a| AvatarUrl::parse(a).ok()),
        })
    }
}
