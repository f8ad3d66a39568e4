//! `Contacts`: a social link between two users, requested by one and accepted by the other
//! (seed 001 and the API call it a "connection"; in code that word means sockets): request,
//! accept, decline, cancel, remove. Accepting opens (or reuses) the direct conversation.

use std::sync::Arc;

use parlor_core::{Contact, ContactStatus, ConversationId, DirectPair, NewNotification, NotificationKind, UserId};
use parlor_store::Store;

use super::reach::Via;
use super::{Notifications, Reach};
use crate::error::{ApiError, ApiResult, OrNotFound};

#[derive(Clone)]
pub struct Contacts {
    store: Arc<dyn Store>,
    /// Only a block refuses a request.
    reach: Reach,
    /// A request notifies the person asked.
    notifications: Notifications,
}

impl Contacts {
    pub fn new(store: Arc<dyn Store>, reach: Reach, notifications: Notifications) -> Self {
        Self { store, reach, notifications }
    }

    pub async fn request_contact(&self, me: UserId, other: UserId) -> ApiResult<(Contact, Option<ConversationId>)> {
        DirectPair::new(me, other)?;
        self.reach.check_can_contact(me, other, Via::Request).await?;
        let contact = self.store.request_contact(me, other).await.or_not_found("user")?;
        // Asking someone who already asked you accepts at once.
        let conversation = match contact.status {
            ContactStatus::Accepted => Some(self.store.get_or_create_direct(DirectPair::new(me, other)?).await?.0),
            ContactStatus::Pending => {
                self.notifications.notify_later(vec![NewNotification {
                    user_id: other,
                    kind: NotificationKind::ContactRequest,
                    conversation_id: None,
                    message_id: None,
                    actor_id: Some(me),
                    contact_id: Some(contact.id),
                }]);
                None
            }
        };
        Ok((contact, conversation))
    }

    pub async fn contacts(&self, me: UserId) -> ApiResult<Vec<Contact>> {
        Ok(self.store.contacts(me).await?)
    }

    /// The addressee accepts; returns the direct conversation.
    pub async fn accept_contact(&self, me: UserId, id: i64) -> ApiResult<(Contact, ConversationId)> {
        let found = self.own_contact(me, id).await?;
        if found.addressee != me || found.status != ContactStatus::Pending {
            return Err(ApiError::forbidden("only the user who was asked can accept a pending request"));
        }
        let accepted = self.store.accept_contact(id).await?;
        let (conversation, _) =
            self.store.get_or_create_direct(DirectPair::new(accepted.requester, accepted.addressee)?).await?;
        Ok((accepted, conversation))
    }

    /// Decline (addressee, pending), cancel (requester, pending) or remove (either, accepted).
    pub async fn end_contact(&self, me: UserId, id: i64, action: EndContact) -> ApiResult<()> {
        let found = self.own_contact(me, id).await?;
        let allowed = match action {
            EndContact::Decline => found.addressee == me && found.status == ContactStatus::Pending,
            EndContact::Cancel => found.requester == me && found.status == ContactStatus::Pending,
            EndContact::Remove => found.status == ContactStatus::Accepted,
        };
        if !allowed {
            return Err(ApiError::forbidden(match action {
                EndContact::Decline => "only the user who was asked can decline a pending request",
                EndContact::Cancel => "only the user who asked can cancel a pending request",
                EndContact::Remove => "only an accepted connection can be removed",
            }));
        }
        Ok(self.store.delete_contact(id).await?)
    }

    /// A contact (or request) the caller is part of; others get a 404.
    async fn own_contact(&self, me: UserId, id: i64) -> ApiResult<Contact> {
        self.store
            .contact(id)
            .await?
            .filter(|c| c.requester == me || c.addressee == me)
            .ok_or_else(|| ApiError::not_found("connection"))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum EndContact {
    Decline,
    Cancel,
    Remove,
}
