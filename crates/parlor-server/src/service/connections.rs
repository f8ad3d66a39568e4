//! Connections between users (seed 001): request, accept, decline, cancel, remove. Accepting
//! opens (or reuses) the direct conversation.

use parlor_core::{ConversationId, DirectPair, NewNotification, NotificationKind, UserId};
use parlor_store::{Connection, ConnectionStatus, StoreError};

use super::Chat;
use super::reach::Reach;
use crate::error::{ApiError, ApiResult};

impl Chat {
    pub async fn request_connection(
        &self,
        me: UserId,
        other: UserId,
    ) -> ApiResult<(Connection, Option<ConversationId>)> {
        DirectPair::new(me, other)?;
        self.check_can_contact(me, other, Reach::Request).await?;
        let connection = self.store.request_connection(me, other).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("user"),
            other => other.into(),
        })?;
        // Asking someone who already asked you accepts at once.
        let conversation = match connection.status {
            ConnectionStatus::Accepted => Some(self.store.get_or_create_direct(DirectPair::new(me, other)?).await?.0),
            ConnectionStatus::Pending => {
                self.notify_later(vec![NewNotification {
                    user_id: other,
                    kind: NotificationKind::ConnectionRequest,
                    conversation_id: None,
                    message_id: None,
                    actor_id: Some(me),
                    connection_id: Some(connection.id),
                }]);
                None
            }
        };
        Ok((connection, conversation))
    }

    pub async fn connections(&self, me: UserId) -> ApiResult<Vec<Connection>> {
        Ok(self.store.connections(me).await?)
    }

    /// The addressee accepts; returns the direct conversation.
    pub async fn accept_connection(&self, me: UserId, id: i64) -> ApiResult<(Connection, ConversationId)> {
        let found = self.own_connection(me, id).await?;
        if found.addressee != me || found.status != ConnectionStatus::Pending {
            return Err(ApiError::forbidden("only the user who was asked can accept a pending request"));
        }
        let accepted = self.store.accept_connection(id).await?;
        let (conversation, _) =
            self.store.get_or_create_direct(DirectPair::new(accepted.requester, accepted.addressee)?).await?;
        Ok((accepted, conversation))
    }

    /// Decline (addressee, pending), cancel (requester, pending) or remove (either, accepted).
    pub async fn end_connection(&self, me: UserId, id: i64, action: EndConnection) -> ApiResult<()> {
        let found = self.own_connection(me, id).await?;
        let allowed = match action {
            EndConnection::Decline => found.addressee == me && found.status == ConnectionStatus::Pending,
            EndConnection::Cancel => found.requester == me && found.status == ConnectionStatus::Pending,
            EndConnection::Remove => found.status == ConnectionStatus::Accepted,
        };
        if !allowed {
            return Err(ApiError::forbidden(match action {
                EndConnection::Decline => "only the user who was asked can decline a pending request",
                EndConnection::Cancel => "only the user who asked can cancel a pending request",
                EndConnection::Remove => "only an accepted connection can be removed",
            }));
        }
        Ok(self.store.delete_connection(id).await?)
    }

    /// A connection the caller is part of; others get a 404.
    async fn own_connection(&self, me: UserId, id: i64) -> ApiResult<Connection> {
        self.store
            .connection(id)
            .await?
            .filter(|c| c.requester == me || c.addressee == me)
            .ok_or_else(|| ApiError::not_found("connection"))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum EndConnection {
    Decline,
    Cancel,
    Remove,
}
