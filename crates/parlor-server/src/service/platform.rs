//! `Platform`: what the host platform's backend does through the server API: it names its users
//! by its own ids, connects them, adds and removes members of its rooms, and posts notices into
//! them (opening a conversation for one of its contexts is [`Rooms::open_context`]). The
//! platform decides who talks to whom, so no block or role rule applies here.

use std::sync::Arc;

use parlor_core::{Contact, ContactStatus, ConversationId, DirectPair, ExternalId, Message, MessageBody, User, UserId};
use parlor_store::{MemberChange, Store, StoreError};

use super::{Notifications, Rooms};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult, OrNotFound};

#[derive(Clone)]
pub struct Platform {
    store: Arc<dyn Store>,
    hub: Hub,
    /// Membership changes are told as a member's are.
    rooms: Rooms,
    /// A notice is notified about like any message.
    notifications: Notifications,
    /// `limits.max_message_chars`, for notices.
    max_notice_chars: usize,
}

impl Platform {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        rooms: Rooms,
        notifications: Notifications,
        max_notice_chars: usize,
    ) -> Self {
        Self { store, hub, rooms, notifications, max_notice_chars }
    }

    /// The platform's user by its id; a 404 saying to upsert it first when parlor never saw it.
    pub async fn platform_user(&self, external_id: &str) -> ApiResult<User> {
        let missing = || {
            ApiError::not_found(&format!(
                "user `{}` (upsert it first)",
                external_id.chars().take(128).collect::<String>()
            ))
        };
        let Ok(id) = ExternalId::parse(external_id) else { return Err(missing()) };
        self.store.user_by_external_id(&id).await?.ok_or_else(missing)
    }

    pub async fn platform_users(&self, external_ids: &[String]) -> ApiResult<Vec<UserId>> {
        let mut ids = Vec::with_capacity(external_ids.len());
        for external_id in external_ids {
            ids.push(self.platform_user(external_id).await?.id);
        }
        Ok(ids)
    }

    /// An accepted contact between two users, made or completed; and their direct conversation.
    pub async fn connect(&self, a: UserId, b: UserId) -> ApiResult<(Contact, ConversationId)> {
        let pair = DirectPair::new(a, b)?;
        let contact = match self.store.request_contact(a, b).await {
            Ok(contact) => contact,
            Err(StoreError::Conflict(_)) => {
                let existing = self.store.contacts(a).await?;
                existing
                    .into_iter()
                    .find(|c| (c.requester == b || c.addressee == b) && (c.requester == a || c.addressee == a))
                    .ok_or_else(ApiError::internal)?
            }
            Err(e) => return Err(e.into()),
        };
        let contact = match contact.status {
            ContactStatus::Pending => self.store.accept_contact(contact.id).await?,
            ContactStatus::Accepted => contact,
        };
        let (conversation, _) = self.store.get_or_create_direct(pair).await?;
        Ok((contact, conversation))
    }

    /// Posts the platform's notice (a system message by "System") and delivers it like any message.
    pub async fn post_notice(&self, id: ConversationId, text: String) -> ApiResult<Message> {
        let body = MessageBody::parse(text, self.max_notice_chars)?;
        let appended = self.store.append_notice(id, &body).await.or_not_found("conversation")?;
        self.hub.publish(&appended.event).await;
        let message = appended.message().ok_or_else(ApiError::internal)?.clone();
        self.notifications.after_message(&message);
        Ok(message)
    }

    /// The platform adds members to a room (a contractor joins the job's room), as "System": the
    /// platform decides who belongs, so no role or block rule applies. Members already there
    /// are no change.
    pub async fn platform_add_members(&self, id: ConversationId, users: Vec<UserId>) -> ApiResult<()> {
        self.hub.forget_members(id);
        match self.store.change_members(id, UserId::SYSTEM, MemberChange::Add(users)).await {
            Ok(appended) => self.rooms.membership_changed(id, &appended, &[]).await,
            Err(StoreError::Rule("already_members")) => Ok(()),
            Err(StoreError::NotFound) => Err(ApiError::not_found("conversation")),
            Err(other) => Err(other.into()),
        }
    }

    /// The platform removes a member from a room, as "System"; they keep what they saw until then.
    pub async fn platform_remove_member(&self, id: ConversationId, user: UserId) -> ApiResult<()> {
        self.hub.forget_members(id);
        let appended =
            self.store.change_members(id, UserId::SYSTEM, MemberChange::Remove(user)).await.or_not_found("member")?;
        self.rooms.membership_changed(id, &appended, &[user]).await
    }
}
