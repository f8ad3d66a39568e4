//! A former member's view: the conversation as it was when they left (protocol §10.1). What
//! they may read already stops at their departure; every read path also passes what it shows
//! them through here, so edits, deletes and reactions made since, and the room's later title,
//! picture and archived flag, reach them by no path: history, one message, the conversation and
//! its list, resumed events, search, notification previews. Current members see everything as it
//! is. These are [`Conversations`]' methods, which the other services' read paths call.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use parlor_core::{
    ConversationEvent, ConversationId, ConversationOverview, EventKind, Membership, Message, MessageHit, MessageId,
    Notification, UserId,
};

use super::Conversations;
use crate::error::ApiResult;

/// How much of a message a notification previews (as the store cuts them).
const PREVIEW_CHARS: usize = 140;

impl Conversations {
    /// Messages of conversation `id` as the holder of `membership` may see them.
    pub(in crate::service) async fn as_they_were(
        &self,
        membership: &Membership,
        id: ConversationId,
        messages: &mut [Message],
    ) -> ApiResult<()> {
        if let Some(cutoff) = membership.event_cutoff() {
            self.store.messages_as_of(id, cutoff, messages).await?;
        }
        Ok(())
    }

    /// A conversation as its viewer may see it: for a former member, the room's title,
    /// picture, archived flag, last message and positions as they were.
    pub(in crate::service) async fn overview_as_seen(&self, overview: &mut ConversationOverview) -> ApiResult<()> {
        let (Some(cutoff), Some(last_seen)) =
            (overview.membership.event_cutoff(), overview.membership.message_cutoff())
        else {
            return Ok(());
        };
        let conversation = &mut overview.conversation;
        // How much happened since is not theirs to know either.
        conversation.last_event_seq = conversation.last_event_seq.min(cutoff);
        conversation.last_message_seq = conversation.last_message_seq.min(last_seen);
        if let Some(last) = &overview.last_message {
            conversation.last_activity_at = conversation.last_activity_at.min(last.created_at);
        }
        if let Some(look) = self.store.look_as_of(conversation.id, cutoff).await? {
            conversation.archived_at = match look.archived {
                true => look.since.or(conversation.archived_at).or(Some(conversation.created_at)),
                false => None,
            };
            conversation.title = look.title;
            conversation.avatar = look.avatar;
        }
        if let Some(last) = overview.last_message.as_mut() {
            self.store.messages_as_of(conversation.id, cutoff, std::slice::from_mut(last)).await?;
        }
        Ok(())
    }

    /// Logged events a former member replays (`resume`), with their messages as they were.
    pub(in crate::service) async fn events_as_they_were(
        &self,
        membership: &Membership,
        id: ConversationId,
        events: &mut [ConversationEvent],
    ) -> ApiResult<()> {
        let Some(cutoff) = membership.event_cutoff() else { return Ok(()) };
        let mut messages: HashMap<MessageId, Message> = HashMap::new();
        let mut reacted: Vec<MessageId> = Vec::new();
        for event in events.iter() {
            match &event.kind {
                EventKind::MessageCreated(m) | EventKind::MessageEdited(m) => {
                    messages.entry(m.id).or_insert_with(|| m.clone());
                }
                EventKind::ReactionChanged { message_id, .. } => reacted.push(*message_id),
                _ => {}
            }
        }
        for message_id in reacted {
            if !messages.contains_key(&message_id)
                && let Some(m) = self.store.message(message_id).await?
            {
                messages.insert(message_id, m);
            }
        }
        let mut then: Vec<Message> = messages.into_values().collect();
        self.store.messages_as_of(id, cutoff, &mut then).await?;
        let then: HashMap<MessageId, Message> = then.into_iter().map(|m| (m.id, m)).collect();
        for event in events.iter_mut() {
            match &mut event.kind {
                EventKind::MessageCreated(m) | EventKind::MessageEdited(m) => {
                    if let Some(was) = then.get(&m.id) {
                        m.clone_from(was);
                    }
                }
                EventKind::ReactionChanged { message_id, reactions, .. } => {
                    if let Some(was) = then.get(message_id) {
                        reactions.clone_from(&was.reactions);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Search hits as their searcher may see them (hits in conversations they left).
    pub(in crate::service) async fn hits_as_they_were(&self, me: UserId, hits: &mut [MessageHit]) -> ApiResult<()> {
        let mut memberships: HashMap<ConversationId, Option<Membership>> = HashMap::new();
        for hit in hits.iter_mut() {
            let id = hit.message.conversation_id;
            if let Entry::Vacant(slot) = memberships.entry(id) {
                // Current members (the hub's cached lists) cost no query.
                slot.insert(match self.ensure_member(me, id).await {
                    Ok(()) => None,
                    Err(_) => Some(self.reader(me, id).await?),
                });
            }
            if let Some(Some(membership)) = memberships.get(&id) {
                self.as_they_were(membership, id, std::slice::from_mut(&mut hit.message)).await?;
            }
        }
        Ok(())
    }

    /// Notification previews of conversations the user left show the message as it was.
    pub(in crate::service) async fn previews_as_they_were(
        &self,
        me: UserId,
        list: &mut [Notification],
    ) -> ApiResult<()> {
        let mut left: HashMap<ConversationId, bool> = HashMap::new();
        for n in list.iter_mut() {
            let (Some(id), Some(message)) = (n.conversation_id, n.message_id) else { continue };
            let former = match left.get(&id) {
                Some(former) => *former,
                None => {
                    let former = self.ensure_member(me, id).await.is_err()
                        && self.store.membership(id, me).await?.is_some_and(|m| !m.active);
                    *left.entry(id).or_insert(former)
                }
            };
            if former {
                // Their read of it: 404 if it came after they left.
                n.preview = match self.message(me, message).await {
                    Ok(m) if m.deleted_at.is_none() => m.content.chars().take(PREVIEW_CHARS).collect(),
                    _ => String::new(),
                };
            }
        }
        Ok(())
    }
}
