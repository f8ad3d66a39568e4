//! `Messages`: sending, history, forwarding, typing, and a call's message when it ends; its other
//! half, `lifecycle.rs`, edits, deletes and reacts. Reading one message is
//! [`Conversations::message`], since every service that shows one asks it.

mod lifecycle;

use std::sync::Arc;

use parlor_core::{
    CallRecord, ClientId, ConversationId, Message, MessageBody, MessageId, MessageKind, NewMessage, Seq, User, UserId,
};
use parlor_protocol::ServerFrame;
use parlor_store::{Appended, PendingAppend, Store};

use super::{Attachments, Conversations, DeliveryReceipts, Notifications, Reach};
use crate::bus::Hub;
use crate::config::Limits;
use crate::error::{ApiError, ApiResult, OrNotFound};

/// A message as a client submitted it, before parsing.
#[derive(Default)]
pub struct SendInput {
    pub content: String,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<String>,
    pub forwarded: bool,
}

/// A message checked and queued by [`Messages::submit`], not yet stored nor fanned out: pass it
/// to [`Messages::finish_send`]. Dropped, the message is still stored, but nobody is told.
#[must_use = "finish_send fans the message out once stored"]
pub struct Submitted(PendingAppend);

#[derive(Clone)]
pub struct Messages {
    store: Arc<dyn Store>,
    hub: Hub,
    conversations: Conversations,
    reach: Reach,
    /// Every new message is notified about (in the background).
    notifications: Notifications,
    /// A history page counts as delivered.
    delivery_receipts: DeliveryReceipts,
    /// A deleted message's files go with it.
    attachments: Attachments,
    limits: Arc<Limits>,
    /// `allow_edit_delete`: whether senders may edit and delete their messages.
    allow_edit_delete: bool,
}

impl Messages {
    #[expect(clippy::too_many_arguments, reason = "each dependency named at its one call, in `Server::bind`")]
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        conversations: Conversations,
        reach: Reach,
        notifications: Notifications,
        delivery_receipts: DeliveryReceipts,
        attachments: Attachments,
        limits: &Limits,
        allow_edit_delete: bool,
    ) -> Self {
        let limits = Arc::new(limits.clone());
        Self {
            store,
            hub,
            conversations,
            reach,
            notifications,
            delivery_receipts,
            attachments,
            limits,
            allow_edit_delete,
        }
    }

    /// Stores a message (once per `client_id`) and, when new, fans it out to every member's
    /// connections. Returns only after the message is durably stored.
    pub async fn send(&self, sender: &User, id: ConversationId, input: SendInput) -> ApiResult<Appended> {
        let submitted = self.submit(sender, id, input).await?;
        self.finish_send(submitted).await
    }

    /// The first half of [`Messages::send`]: checks the message (its body, `client_id`, the
    /// sender's membership and reach) and queues it for storage, returning once it is queued.
    /// Messages submitted one after another are numbered in that order; a socket submits its
    /// next message while this one commits (`gateway/connection/pipeline.rs`).
    pub async fn submit(&self, sender: &User, id: ConversationId, input: SendInput) -> ApiResult<Submitted> {
        let body = MessageBody::parse(input.content, self.limits.max_message_chars)?;
        let client_id = input.client_id.as_deref().map(ClientId::parse).transpose()?;
        self.conversations.ensure_member(sender.id, id).await?;
        self.reach.check_can_write(sender.id, id).await?;
        let new = NewMessage {
            conversation_id: id,
            sender_id: sender.id,
            body,
            reply_to: input.reply_to,
            client_id,
            forwarded: input.forwarded,
            attachment: None,
        };
        let pending = self.store.submit_message(new).await.or_not_found("conversation")?;
        Ok(Submitted(pending))
    }

    /// The second half of [`Messages::send`]: waits until the message is durably stored, then,
    /// when it is new, fans it out and notifies about it.
    pub async fn finish_send(&self, submitted: Submitted) -> ApiResult<Appended> {
        let appended = self.stored(submitted).await?;
        self.announce(&appended).await;
        Ok(appended)
    }

    /// Waits until a submitted message is durably stored; nobody has heard of it yet.
    pub async fn stored(&self, submitted: Submitted) -> ApiResult<Appended> {
        submitted.0.await.or_not_found("conversation")
    }

    /// Fans a stored message out and notifies about it, unless it was a retry of one already
    /// announced.
    pub async fn announce(&self, appended: &Appended) {
        if !appended.duplicate {
            self.hub.publish(&appended.event).await;
            if let Some(message) = appended.message() {
                self.notifications.after_message(message);
            }
        }
    }

    /// A page of history, newest first, strictly older than `before` (a message seq). Former
    /// members see what was there until they left, as it was then. Fetching counts as delivery
    /// to the caller.
    pub async fn history(
        &self,
        me: UserId,
        id: ConversationId,
        before: Option<Seq>,
        limit: Option<u32>,
    ) -> ApiResult<(Vec<Message>, bool)> {
        let membership = self.conversations.reader(me, id).await?;
        let limit = limit.unwrap_or(self.limits.page_size_default).clamp(1, self.limits.page_size_max);
        let before = match (before, membership.message_cutoff()) {
            (Some(b), Some(cutoff)) => Some(b.min(cutoff.next())),
            (None, Some(cutoff)) => Some(cutoff.next()),
            (b, None) => b,
        };
        let mut page = self.store.messages_before(id, before, limit + 1).await?;
        let has_more = page.len() > limit as usize;
        page.truncate(limit as usize);
        self.conversations.as_they_were(&membership, id, &mut page).await?;
        if let (true, Some(newest)) = (membership.active, page.first()) {
            self.delivery_receipts.note_delivered(me, id, newest.seq);
        }
        Ok((page, has_more))
    }

    /// Copies a message the caller can read into a conversation they belong to, marked as
    /// forwarded (where it came from is not revealed).
    pub async fn forward(&self, me: &User, id: MessageId, to: ConversationId) -> ApiResult<Appended> {
        let original = self.conversations.message(me.id, id).await?;
        if original.deleted_at.is_some() || original.kind != MessageKind::Text {
            return Err(ApiError::not_found("message"));
        }
        let input = SendInput { content: original.content, forwarded: true, ..SendInput::default() };
        self.send(me, to, input).await
    }

    /// Tells the other members that `user` started or stopped typing. Not logged.
    pub async fn typing(&self, user: &User, id: ConversationId, is_typing: bool) -> ApiResult<()> {
        self.conversations.ensure_member(user.id, id).await?;
        self.reach.check_can_write(user.id, id).await?;
        let frame = ServerFrame::TypingIndicator {
            conversation_id: id,
            user_id: user.id,
            user_name: user.name.clone(),
            is_typing,
        };
        self.hub.publish_ephemeral(id, &frame, user.id).await;
        Ok(())
    }

    /// Stores a call's message (written by the caller) when the call ends and delivers it like
    /// any message: history, unread counts, notifications and webhooks see it.
    pub async fn record_call(&self, id: ConversationId, caller: UserId, record: &CallRecord) -> ApiResult<Message> {
        let appended = self.store.append_call(id, caller, record).await.or_not_found("conversation")?;
        self.hub.publish(&appended.event).await;
        let message = appended.message().ok_or_else(ApiError::internal)?.clone();
        self.notifications.after_message(&message);
        Ok(message)
    }
}
