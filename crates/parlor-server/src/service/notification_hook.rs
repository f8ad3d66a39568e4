//! The `notification.created` webhook (docs/webhooks.md): every notification made is also
//! queued in the webhook outbox, for platforms that reach people themselves (their own mobile
//! push or email), unless the recipient is in their quiet hours or looking at the
//! conversation (`Rules::webhook_wanted`; mute and block already kept it from being made). Its data is written now, since whether the recipient was online is true
//! only of this moment; the dispatcher delivers it in order with the logged events.

use std::collections::HashMap;

use parlor_core::{EventType, Notification, Timestamp, User, UserId};
use parlor_protocol::{HookUser, NotificationHook};
use parlor_store::QueuedNotification;

use super::Notifications;
use crate::error::ApiResult;

impl Notifications {
    /// Whether any endpoint wants `notification.created`: one read per batch of notifications,
    /// so a server without endpoints writes nothing more than before.
    pub(super) async fn notification_hooks_wanted(&self) -> bool {
        match self.store.webhooks().await {
            Ok(hooks) => hooks.iter().any(|h| h.wants(EventType::NotificationCreated)),
            Err(e) => {
                tracing::warn!(error = %e, "webhook endpoints not read; notifications not queued for them");
                false
            }
        }
    }

    /// Queues one `notification.created` per notification; `online` is whether each recipient
    /// had a connection open when it was made. Wakes the dispatcher once at the end.
    pub(super) async fn queue_notification_hooks(&self, made: &[(Notification, bool)]) -> ApiResult<()> {
        let ids: Vec<UserId> = made.iter().flat_map(|(n, _)| [Some(n.user_id), n.actor_id]).flatten().collect();
        let people: HashMap<UserId, User> = self.store.users(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
        for (n, online) in made {
            let Some(recipient) = people.get(&n.user_id) else { continue };
            let hook = NotificationHook {
                notification_id: n.id,
                kind: n.kind.as_str().to_owned(),
                recipient: hook_user(recipient),
                conversation_id: n.conversation_id,
                message_id: n.message_id,
                sender: n.actor_id.and_then(|a| people.get(&a)).map(hook_user),
                preview: n.preview.clone(),
                count: n.count,
                online: *online,
            };
            // Serializing plain structs of strings and numbers cannot fail.
            let data = serde_json::to_string(&hook).unwrap_or_default();
            let queued = QueuedNotification {
                conversation_id: n.conversation_id,
                recipient: n.user_id,
                actor: n.actor_id,
                at: Timestamp::now(),
                data,
            };
            self.store.queue_notification_hook(&queued).await?;
        }
        self.hub.wake_webhooks();
        Ok(())
    }
}

fn hook_user(user: &User) -> HookUser {
    HookUser { id: user.id, external_id: user.external_id.clone(), name: user.name.clone() }
}
