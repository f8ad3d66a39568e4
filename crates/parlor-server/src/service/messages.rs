//! Sending and reading messages.

use parlor_core::{ClientId, ConversationId, Message, MessageBody, MessageId, NewMessage, Seq, User, UserId};
use parlor_protocol::ServerFrame;
use parlor_store::Appended;

use super::Chat;
use crate::error::{ApiError, ApiResult};

/// A message as a client submitted it, before parsing.
pub struct SendInput {
    pub content: String,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
}

impl Chat {
    /// Stores a message (once per `client_id`) and, when new, fans it out to every member's
    /// connections. Returns only after the message is durably stored.
    pub async fn send(&self, sender: &User, id: ConversationId, input: SendInput) -> ApiResult<Appended> {
        let body = MessageBody::parse(input.content, self.limits.max_message_chars)?;
        let client_id = input.client_id.as_deref().map(ClientId::parse).transpose()?;
        self.ensure_member(sender.id, id).await?;
        let new = NewMessage { conversation_id: id, sender_id: sender.id, body, reply_to: input.reply_to, client_id };
        let appended = self.store.append_message(new).await.map_err(|e| match e {
            parlor_store::StoreError::NotFound => ApiError::not_found("conversation"),
            other => other.into(),
        })?;
        if !appended.duplicate {
            self.hub.publish(&appended.event).await;
        }
        Ok(appended)
    }

    /// A page of history, newest first, strictly older than `before` (a message seq).
    pub async fn history(
        &self,
        me: UserId,
        id: ConversationId,
        before: Option<Seq>,
        limit: Option<u32>,
    ) -> ApiResult<(Vec<Message>, bool)> {
        self.ensure_member(me, id).await?;
        let limit = limit.unwrap_or(self.limits.page_size_default).clamp(1, self.limits.page_size_max);
        let mut page = self.store.messages_before(id, before, limit + 1).await?;
        let has_more = page.len() > limit as usize;
        page.truncate(limit as usize);
        Ok((page, has_more))
    }

    pub async fn message(&self, me: UserId, id: MessageId) -> ApiResult<Message> {
        let message = self.store.message(id).await?.ok_or_else(|| ApiError::not_found("message"))?;
        self.ensure_member(me, message.conversation_id).await.map_err(|_| ApiError::not_found("message"))?;
        Ok(message)
    }

    /// Tells the other members that `user` started or stopped typing. Not logged.
    pub async fn typing(&self, user: &User, id: ConversationId, is_typing: bool) -> ApiResult<()> {
        self.ensure_member(user.id, id).await?;
        let frame = ServerFrame::TypingIndicator {
            conversation_id: id,
            user_id: user.id,
            user_name: user.name.clone(),
            is_typing,
        };
        self.hub.publish_ephemeral(id, &frame, user.id).await;
        Ok(())
    }
}
