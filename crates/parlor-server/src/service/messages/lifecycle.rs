//! Editing, deleting and reacting to messages: [`Messages`]' other half.

use parlor_core::{Emoji, MessageBody, MessageId, MessageKind, User, UserId};
use parlor_protocol::ErrorCode;

use super::Messages;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::service::reach::Via;

impl Messages {
    /// The sender changes their message's text; the previous version is kept for moderation.
    pub async fn edit(&self, me: UserId, id: MessageId, content: String) -> ApiResult<()> {
        let body = MessageBody::parse(content, self.limits.max_message_chars)?;
        let message = self.own_message(me, id).await?;
        self.reach.check_can_write(me, message.conversation_id).await?;
        let event = self.store.edit_message(id, &body).await?;
        self.hub.publish(&event).await;
        Ok(())
    }

    /// The sender deletes their message: a tombstone for everyone, its place in order kept.
    pub async fn delete(&self, me: UserId, id: MessageId) -> ApiResult<()> {
        self.own_message(me, id).await?;
        let attachment = self.store.attachment_of_message(id).await?;
        let event = self.store.delete_message(id).await?;
        if let Some(stored) = &attachment {
            self.attachments.remove_files(stored).await;
        }
        self.hub.publish(&event).await;
        Ok(())
    }

    /// Adds the reaction, or removes it if the caller already reacted with that emoji. Refused
    /// where the caller may not write, and on the message of someone either of them blocked.
    pub async fn react(&self, me: &User, id: MessageId, emoji: &str) -> ApiResult<()> {
        let emoji = Emoji::parse(emoji)?;
        let message = self.conversations.message(me.id, id).await?;
        self.conversations
            .ensure_member(me.id, message.conversation_id)
            .await
            .map_err(|_| ApiError::not_found("message"))?;
        // A reaction reaches everyone in the conversation and the sender in particular.
        self.reach.check_can_write(me.id, message.conversation_id).await?;
        self.reach.check(me.id, message.sender_id, Via::InRoom).await?;
        let event = self.store.toggle_reaction(id, me.id, &emoji).await.or_not_found("message")?;
        self.hub.publish(&event).await;
        Ok(())
    }

    /// A live, undeleted text message of the caller's in a conversation they are still in.
    async fn own_message(&self, me: UserId, id: MessageId) -> ApiResult<parlor_core::Message> {
        if !self.allow_edit_delete {
            return Err(ApiError::forbidden("messages cannot be edited or deleted on this server")
                .with_code(ErrorCode::EditingDisabled));
        }
        let message = self.conversations.message(me, id).await?;
        self.conversations
            .ensure_member(me, message.conversation_id)
            .await
            .map_err(|_| ApiError::not_found("message"))?;
        if message.deleted_at.is_some() {
            return Err(ApiError::not_found("message"));
        }
        if message.sender_id != me || message.kind != MessageKind::Text {
            return Err(ApiError::forbidden("only the sender can edit or delete a message"));
        }
        Ok(message)
    }
}
