//! Notifications: made after a message, a room invitation or a contact request, stored, and
//! pushed to the user's open connections. Nobody is notified about the conversation they are
//! looking at; muting silences a conversation's messages but not @mentions of you. Each stored
//! notification also goes on to the channels beyond the sockets (`crate::away`) and, for the
//! platform, to the `notification.created` webhook (`notification_hook.rs`, the other half of
//! [`Notifications`]).

use std::collections::HashSet;
use std::sync::Arc;

use parlor_core::{ConversationId, Message, MessageKind, NewNotification, Notification, NotificationKind, UserId};
use parlor_protocol::{NotificationView, ServerFrame};
use parlor_store::{NotificationFilter, NotificationsToRead, Store};
use tokio::sync::Semaphore;

use super::{Conversations, Reach};
use crate::away::Away;
use crate::bus::Hub;
use crate::error::{ApiResult, OrNotFound};

/// Mentions looked at per message: a message naming more people notifies only the first ones.
const MAX_MENTIONS: usize = 20;

#[derive(Clone)]
pub struct Notifications {
    pub(super) store: Arc<dyn Store>,
    pub(super) hub: Hub,
    /// Nobody is notified across a block.
    reach: Reach,
    /// Previews of conversations the recipient left show the message as it was.
    conversations: Conversations,
    /// Notifications stored go on to the channels beyond the sockets (push, email).
    away: Away,
    /// Notification work running at once (see [`Notifications::after_message`]).
    permits: Arc<Semaphore>,
    /// `limits.notify_messages_max_members`: larger rooms notify mentions only.
    messages_max_members: usize,
}

impl Notifications {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        reach: Reach,
        conversations: Conversations,
        away: Away,
        messages_max_members: usize,
    ) -> Self {
        Self { store, hub, reach, conversations, away, permits: Arc::new(Semaphore::new(4)), messages_max_members }
    }

    /// Notifies about a message just published. Runs in the background: the sender's
    /// acknowledgement never waits for it, and a failure only loses notifications.
    pub(super) fn after_message(&self, message: &Message) {
        if self.nobody_to_notify(message) {
            return;
        }
        let (this, message) = (self.clone(), message.clone());
        tokio::spawn(async move {
            // Bounded, so a burst of messages to offline people cannot crowd out message writes.
            let Ok(_permit) = this.permits.acquire().await else { return };
            if let Err(e) = this.notify_about(&message).await {
                tracing::warn!(message_id = %message.id.0, error = %e.message, "notifications not made");
            }
        });
    }

    /// The common case, decided in memory without a task: a plain message without `@` whose
    /// other members are all connected.
    fn nobody_to_notify(&self, message: &Message) -> bool {
        if message.kind != MessageKind::Text || message.content.contains('@') {
            return false;
        }
        let Some(members) = self.hub.cached_members(message.conversation_id) else { return false };
        members.iter().all(|u| *u == message.sender_id || self.hub.is_online(*u))
    }

    async fn notify_about(&self, message: &Message) -> ApiResult<()> {
        let id = message.conversation_id;
        match &message.kind {
            MessageKind::System(event) if matches!(event.action.as_str(), "room_created" | "members_added") => {
                let blocked = self.reach.block_partners(event.actor_id).await?;
                let new: Vec<_> = event
                    .user_ids
                    .iter()
                    .filter(|u| **u != event.actor_id && !blocked.contains(u))
                    .map(|u| notification(*u, NotificationKind::RoomAdded, message, Some(event.actor_id)))
                    .collect();
                return self.deliver_notifications(&new).await;
            }
            MessageKind::System(event) if event.action != "notice" => return Ok(()),
            _ => {}
        }
        let members = self.hub.members(id).await?;
        let mentioned = self.mentioned(&message.content, &members).await?;
        // Large rooms notify mentions only: a note per message per absent member would cost
        // more writes than the messages themselves.
        let all_absent = members.len() <= self.messages_max_members;
        // In memory first: most recipients are online and get no notification at all.
        let candidates: Vec<(UserId, bool)> = members
            .iter()
            .filter(|u| **u != message.sender_id && !self.hub.is_viewing(**u, id))
            .map(|u| (*u, mentioned.contains(u)))
            .filter(|(u, mention)| *mention || (all_absent && !self.hub.is_online(*u)))
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let muted: HashSet<UserId> = self.store.muted_members(id).await?.into_iter().collect();
        let blocked = self.reach.block_partners(message.sender_id).await?;
        let new: Vec<_> = candidates
            .into_iter()
            .filter(|(u, mention)| !blocked.contains(u) && (*mention || !muted.contains(u)))
            .map(|(u, mention)| {
                let kind = if mention { NotificationKind::Mention } else { NotificationKind::Message };
                notification(u, kind, message, Some(message.sender_id))
            })
            .collect();
        self.deliver_notifications(&new).await
    }

    /// Members named as `@username` in the text.
    async fn mentioned(&self, content: &str, members: &[UserId]) -> ApiResult<HashSet<UserId>> {
        let names: HashSet<String> = content
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@')))
            .filter_map(|word| word.strip_prefix('@'))
            .map(|name| name.trim_end_matches(['.', '-']).to_ascii_lowercase())
            .filter(|name| name.len() >= 3)
            .take(MAX_MENTIONS)
            .collect();
        if names.is_empty() {
            return Ok(HashSet::new());
        }
        let names: Vec<String> = names.into_iter().collect();
        let named = self.store.users_by_usernames(&names).await?;
        Ok(named.iter().map(|u| u.id).filter(|u| members.contains(u)).collect())
    }

    /// Stores notifications, pushes each to its owner's open connections and hands it to the
    /// channels beyond them (`crate::away`: Web Push, email), whose rules decide.
    pub(super) async fn deliver_notifications(&self, new: &[NewNotification]) -> ApiResult<()> {
        let stored = self.store.add_notifications(new).await?;
        let hooked = !stored.is_empty() && self.notification_hooks_wanted().await;
        let mut made = Vec::with_capacity(if hooked { stored.len() } else { 0 });
        for stored in stored {
            let online = self.hub.is_online(stored.user_id);
            // Stored is what counts; a failed push is seen on the next fetch.
            if let Err(e) = self.push_notification(&stored).await {
                tracing::warn!(user_id = %stored.user_id, error = %e.message, "notification not pushed");
            }
            self.away.tell(&stored).await;
            if hooked && self.away.rules().webhook_wanted(&stored).await {
                made.push((stored, online));
            }
        }
        if !made.is_empty() {
            self.queue_notification_hooks(&made).await?;
        }
        Ok(())
    }

    async fn push_notification(&self, n: &Notification) -> ApiResult<()> {
        if self.hub.is_online(n.user_id) {
            let unread_count = self.store.unread_notification_count(n.user_id).await?;
            let frame = ServerFrame::Notification { notification: NotificationView::from(n), unread_count };
            self.hub.send_personal(&[n.user_id], &frame);
        }
        Ok(())
    }

    /// Notifies in the background (contact requests...).
    pub(super) fn notify_later(&self, new: Vec<NewNotification>) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.deliver_notifications(&new).await {
                tracing::warn!(error = %e.message, "notifications not made");
            }
        });
    }

    pub async fn notifications(&self, me: UserId, filter: NotificationFilter) -> ApiResult<(Vec<Notification>, i64)> {
        // Two reads, two snapshots: counting first means the list is never older than the count
        // (a count of 1 with an empty list would look like a lost notification).
        let unread = self.store.unread_notification_count(me).await?;
        let mut list = self.store.notifications(me, &filter).await?;
        self.conversations.previews_as_they_were(me, &mut list).await?;
        Ok((list, unread))
    }

    pub async fn unread_notifications(&self, me: UserId) -> ApiResult<i64> {
        Ok(self.store.unread_notification_count(me).await?)
    }

    /// Marks notifications read; returns the unread count left.
    pub async fn mark_notifications_read(&self, me: UserId, which: NotificationsToRead) -> ApiResult<i64> {
        self.store.mark_notifications_read(me, which).await?;
        Ok(self.store.unread_notification_count(me).await?)
    }

    /// Reading a conversation settles its notifications (a cheap read first: usually there are none).
    pub(super) async fn settle_notifications(&self, me: UserId, id: ConversationId) {
        // Whatever a channel still holds back for it is moot now.
        self.away.conversation_read(me, id);
        let settled = async {
            if self.store.has_unread_notifications(me, id).await? {
                self.store.mark_notifications_read(me, NotificationsToRead::Conversation(id)).await?;
            }
            Ok::<_, parlor_store::StoreError>(())
        };
        if let Err(e) = settled.await {
            tracing::warn!(user_id = %me, error = %e, "notifications of a read conversation not settled");
        }
    }

    /// Silences (or not) the conversation's message notifications for the caller.
    pub async fn set_muted(&self, me: UserId, id: ConversationId, muted: bool) -> ApiResult<()> {
        self.store.set_muted(id, me, muted).await.or_not_found("conversation")
    }
}

fn notification(user: UserId, kind: NotificationKind, message: &Message, actor: Option<UserId>) -> NewNotification {
    NewNotification {
        user_id: user,
        kind,
        conversation_id: Some(message.conversation_id),
        message_id: Some(message.id),
        actor_id: actor,
        contact_id: None,
    }
}
