//! `Webhooks`: registering (at public addresses only, unless `webhooks.allow_private_targets`),
//! listing and deleting the host platform's webhook endpoints, and reading their delivery logs. Delivering is [`crate::webhooks`]' job; this service tells it
//! when the set of endpoints changed.

use std::sync::Arc;

use parlor_core::{Delivery, EventType, ValidationError, Webhook, WebhookId, WebhookSecret, WebhookUrl};
use parlor_store::{NewWebhook, Store, StoreError};
use rand::RngCore;
use tokio::sync::Notify;

use crate::config::WebhookSettings;
use crate::error::{ApiError, ApiResult};
use crate::outbound::Outbound;

/// Delivery log rows shown when the caller names no limit, and the most it may ask for.
const LOG_PAGE_DEFAULT: u32 = 50;
const LOG_PAGE_MAX: u32 = 1000;

#[derive(Clone)]
pub struct Webhooks {
    store: Arc<dyn Store>,
    /// The deliveries' client: its guard vets an endpoint's address at registration.
    client: Outbound,
    /// Wakes the dispatcher, which starts or stops the endpoint's task.
    changed: Arc<Notify>,
    keep_deliveries: u32,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, client: Outbound, changed: Arc<Notify>, settings: &WebhookSettings) -> Self {
        Self { store, client, changed, keep_deliveries: settings.delivery_log_max }
    }

    /// Registers an endpoint for `events` (all when `None`), signed with `secret` or a
    /// generated one. It receives the events logged from now on.
    pub async fn create(&self, url: &str, events: Option<&[String]>, secret: Option<&str>) -> ApiResult<Webhook> {
        let url = WebhookUrl::parse(url)?;
        self.client.vet(url.as_str()).await.map_err(|refused| ValidationError::new("url", refused.to_string()))?;
        let events = match events {
            None => None,
            Some([]) => {
                return Err(ValidationError::new("events", "name at least one type, or leave it out for all").into());
            }
            Some(names) => {
                let mut types = names.iter().map(|n| EventType::parse(n)).collect::<Result<Vec<_>, _>>()?;
                types.sort_unstable();
                types.dedup();
                Some(types)
            }
        };
        let secret = match secret {
            Some(given) => WebhookSecret::parse(given)?,
            None => generated_secret()?,
        };
        let hook = self.store.create_webhook(NewWebhook { url, events, secret }).await?;
        self.changed.notify_one();
        tracing::info!(webhook_id = %hook.id, "webhook endpoint created");
        Ok(hook)
    }

    pub async fn list(&self) -> ApiResult<Vec<Webhook>> {
        Ok(self.store.webhooks().await?)
    }

    pub async fn delete(&self, id: WebhookId) -> ApiResult<()> {
        self.store.delete_webhook(id).await.map_err(not_found)?;
        self.changed.notify_one();
        tracing::info!(webhook_id = %id, "webhook endpoint deleted");
        Ok(())
    }

    /// The endpoint's delivery log, newest first.
    pub async fn deliveries(&self, id: WebhookId, limit: Option<u32>) -> ApiResult<Vec<Delivery>> {
        self.store.webhook(id).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
        let limit = limit.unwrap_or(LOG_PAGE_DEFAULT).clamp(1, LOG_PAGE_MAX);
        Ok(self.store.deliveries(id, limit).await?)
    }

    /// Housekeeping: drops outbox entries every endpoint has passed and old log rows; returns
    /// how many entries went.
    pub async fn prune(&self) -> u64 {
        self.store.prune_webhooks(self.keep_deliveries).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "pruning the webhook outbox failed");
            0
        })
    }
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("webhook"),
        other => other.into(),
    }
}

/// 32 random bytes, hex.
fn generated_secret() -> ApiResult<WebhookSecret> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    WebhookSecret::parse(&hex).map_err(|_| ApiError::internal())
}
