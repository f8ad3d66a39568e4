//! `Rooms`: creating them, membership and roles, settings and archiving (of any conversation),
//! and conversations linked to a context on the host platform.

use std::sync::Arc;

use parlor_core::{
    AvatarUrl, Context, ConversationId, ConversationKind, ConversationOverview, Role, RoomTitle, User, UserId,
};
use parlor_store::{Appended, ConversationPatch, MemberChange, NewRoom, Store, StoreError};

use super::{Conversations, Notifications, Reach};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult, OrNotFound};

#[derive(Clone)]
pub struct Rooms {
    store: Arc<dyn Store>,
    /// Member lists change here: the hub's cached ones are dropped and the change published.
    hub: Hub,
    conversations: Conversations,
    /// Whom a member may put in a room.
    reach: Reach,
    /// Room invitations notify the people added.
    notifications: Notifications,
}

impl Rooms {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        conversations: Conversations,
        reach: Reach,
        notifications: Notifications,
    ) -> Self {
        Self { store, hub, conversations, reach, notifications }
    }

    pub async fn create_room(
        &self,
        me: &User,
        title: &str,
        avatar: Option<&str>,
        members: Vec<UserId>,
    ) -> ApiResult<ConversationOverview> {
        self.reach.check_can_add(me.id, &members).await?;
        let room = NewRoom {
            creator: me.id,
            title: RoomTitle::parse(title)?,
            avatar: avatar.map(AvatarUrl::parse).transpose()?,
            members,
            context: None,
        };
        let (id, created) = self.store.create_room(room).await.or_not_found("user")?;
        tracing::info!(conversation_id = %id, user_id = %me.id, "room created");
        self.hub.publish(&created.event).await;
        if let Some(message) = created.message() {
            self.notifications.after_message(message);
        }
        self.conversations.conversation(me.id, id).await
    }

    /// The conversation for a context (job 42...) between the caller and `others`, created on
    /// first use: direct for two people, otherwise a room the caller owns.
    pub async fn by_context(
        &self,
        me: UserId,
        kind: &str,
        external_id: &str,
        title: Option<&str>,
        others: Vec<UserId>,
    ) -> ApiResult<(ConversationOverview, bool)> {
        self.reach.check_can_add(me, &others).await?;
        self.open_context(me, kind, external_id, title, others).await
    }

    /// As [`Rooms::by_context`] without the caller's contact rules: for the host platform,
    /// which decides who talks to whom itself.
    pub async fn open_context(
        &self,
        me: UserId,
        kind: &str,
        external_id: &str,
        title: Option<&str>,
        others: Vec<UserId>,
    ) -> ApiResult<(ConversationOverview, bool)> {
        let context = Context::parse(kind, external_id, title)?;
        let mut people = others;
        people.push(me);
        people.sort_unstable();
        people.dedup();
        if people.len() < 2 {
            return Err(ApiError::from(parlor_core::ValidationError::new("members", "name at least one other user")));
        }
        let (id, created) = self.store.get_or_create_by_context(&context, &people, me).await.or_not_found("user")?;
        if created {
            tracing::info!(conversation_id = %id, context = %context.kind, "context conversation created");
            self.replay_new_room(id).await;
        }
        Ok((self.conversations.conversation(me, id).await?, created))
    }

    /// Renames or re-pictures a room (admins), or archives/unarchives a conversation (any member
    /// of a direct conversation, admins of a room).
    pub async fn update_conversation(
        &self,
        me: UserId,
        id: ConversationId,
        patch: ConversationPatch,
    ) -> ApiResult<ConversationOverview> {
        let membership = self.conversations.active_member(me, id).await?;
        let overview = self.conversations.conversation(me, id).await?;
        let is_room = overview.conversation.kind == ConversationKind::Room;
        if (patch.title.is_some() || patch.avatar.is_some()) && !is_room {
            return Err(StoreError::Rule("not_a_room").into());
        }
        if is_room && !membership.role.can_manage_room() {
            return Err(ApiError::forbidden("only owners and admins can change the room"));
        }
        if let Some((updated, system)) = self.store.update_conversation(id, me, &patch).await? {
            self.hub.publish(&updated).await;
            self.hub.publish(&system.event).await;
        }
        self.conversations.conversation(me, id).await
    }

    pub async fn add_members(&self, me: UserId, id: ConversationId, users: Vec<UserId>) -> ApiResult<()> {
        let membership = self.room_member(me, id).await?;
        if !membership.role.can_manage_room() {
            return Err(ApiError::forbidden("only owners and admins can add members"));
        }
        self.reach.check_can_add(me, &users).await?;
        self.hub.forget_members(id);
        match self.store.change_members(id, me, MemberChange::Add(users)).await {
            Ok(appended) => self.membership_changed(id, &appended, &[]).await,
            Err(StoreError::Rule("already_members")) => Ok(()),
            Err(StoreError::NotFound) => Err(ApiError::not_found("user")),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes `user`; removing yourself is leaving.
    pub async fn remove_member(&self, me: UserId, id: ConversationId, user: UserId) -> ApiResult<()> {
        if user == me {
            return self.leave(me, id).await;
        }
        let membership = self.room_member(me, id).await?;
        let target =
            self.store.membership(id, user).await?.filter(|m| m.active).ok_or_else(|| ApiError::not_found("member"))?;
        if !membership.role.can_remove(target.role) {
            return Err(ApiError::forbidden("admins remove members; only owners remove admins and owners"));
        }
        self.hub.forget_members(id);
        let appended = self.store.change_members(id, me, MemberChange::Remove(user)).await?;
        self.membership_changed(id, &appended, &[user]).await
    }

    pub async fn leave(&self, me: UserId, id: ConversationId) -> ApiResult<()> {
        self.conversations.active_member(me, id).await?;
        self.hub.forget_members(id);
        let appended = self.store.change_members(id, me, MemberChange::Leave).await?;
        self.membership_changed(id, &appended, &[me]).await
    }

    /// Owners give and take roles, including ownership (which is how an owner hands over).
    pub async fn set_role(&self, me: UserId, id: ConversationId, user: UserId, role: &str) -> ApiResult<()> {
        let role = Role::parse(role)?;
        let membership = self.room_member(me, id).await?;
        if !membership.role.can_set_roles() {
            return Err(ApiError::forbidden("only owners can change roles"));
        }
        let appended =
            self.store.change_members(id, me, MemberChange::SetRole(user, role)).await.or_not_found("member")?;
        self.membership_changed(id, &appended, &[]).await
    }

    /// A current member's membership of a room; direct conversations have no members to manage.
    async fn room_member(&self, me: UserId, id: ConversationId) -> ApiResult<parlor_core::Membership> {
        let membership = self.conversations.active_member(me, id).await?;
        if self.conversations.conversation(me, id).await?.conversation.kind != ConversationKind::Room {
            return Err(StoreError::Rule("not_a_room").into());
        }
        Ok(membership)
    }

    /// Refreshes the hub's member list and tells everyone, including whoever just left.
    pub(super) async fn membership_changed(
        &self,
        id: ConversationId,
        appended: &Appended,
        departed: &[UserId],
    ) -> ApiResult<()> {
        self.hub.forget_members(id);
        self.hub.publish_with(&appended.event, departed).await;
        if let Some(message) = appended.message() {
            self.notifications.after_message(message);
        }
        Ok(())
    }

    /// A room created for a context starts with a system message; members online hear of it.
    async fn replay_new_room(&self, id: ConversationId) {
        if let Ok(events) = self.store.events_after(id, parlor_core::Seq::ZERO, 10).await {
            for event in &events {
                self.hub.publish(event).await;
                if let parlor_core::EventKind::MessageCreated(message) = &event.kind {
                    self.notifications.after_message(message);
                }
            }
        }
    }
}
