//! Reaching people who are away: the one place that decides who is told what, and when,
//! through the channels beyond the open app (Web Push in `push/`, email in `email/`), and the user's
//! preferences that steer it (`settings.rs`).
//!
//! The inbox's own rules come first (`service::notifications`): nobody is notified about the
//! conversation they are looking at, across a block, or of messages in a conversation they
//! muted (mentions still count). Every notification stored there is handed to [`Away::tell`],
//! which adds the rules of the channels:
//!
//! - only messages and mentions go out (a conversation's notification folds its messages);
//! - not while any of the user's connections shows that conversation (`focus`);
//! - not during the user's quiet hours, and only through channels they left on;
//! - a channel that holds a notice back (a delay) asks [`Rules::still_due`] again right before
//!   sending: still unread (a read anywhere settles it), still not looked at, still wanted, and
//!   no mute or block made meanwhile that the inbox would have applied.
//!
//! A channel implements [`Channel`]: it takes a [`Notice`] without waiting (its sending runs in
//! its own background task) and hears when the user read a conversation on this node.
//!
//! An incoming call rings through the channels that can ring ([`Away::ring`], Web Push): only
//! for a callee with no open connection anywhere (an open app rings itself), push on, and not
//! during quiet hours.

pub mod email;
pub mod push;
mod settings;

use std::sync::Arc;

use parlor_core::{ConversationId, Notification, NotificationKind, NotificationSettings, Timestamp, UserId};
use parlor_store::Store;

use crate::bus::Hub;

pub use settings::SettingsChange;

/// The channels beyond the open app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Push,
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Push => "push",
            Self::Email => "email",
        }
    }

    /// Whether the user left this channel on.
    pub fn allowed_by(self, settings: &NotificationSettings) -> bool {
        match self {
            Self::Push => settings.push,
            Self::Email => settings.email,
        }
    }
}

/// A notification that passed the rules, for a channel to deliver.
#[derive(Debug, Clone)]
pub struct Notice {
    pub notification: Notification,
    pub conversation_id: ConversationId,
    /// Whether the user had any open connection (on any node) when it was made.
    pub online: bool,
    /// The user's preferences as they were then (email's delay, for one).
    pub settings: NotificationSettings,
}

/// An incoming call for someone with no open connection.
#[derive(Debug, Clone)]
pub struct Ring {
    pub user: UserId,
    pub conversation_id: ConversationId,
    pub call_id: String,
    pub caller_name: String,
    /// `voice` or `video`.
    pub media: &'static str,
    /// How long it rings: a push still undelivered after that is worthless.
    pub ttl_secs: u64,
}

/// A way to reach someone beyond their open sockets.
pub trait Channel: Send + Sync + 'static {
    fn kind(&self) -> ChannelKind;

    /// Takes a notice. Must return at once: sending is the channel's own background work, so a
    /// slow push service or mail server never delays anything else.
    fn hand(&self, notice: Notice);

    /// The user read this conversation (on this node): drop what still waits for it. Reads on
    /// other nodes are caught by [`Rules::still_due`].
    fn read(&self, user: UserId, conversation: ConversationId);

    /// Rings for an incoming call, at once; channels that cannot ring (email) ignore it.
    fn ring(&self, _ring: Ring) {}
}

/// The rules, shared by [`Away`] and the channels that ask again before a delayed send.
#[derive(Clone)]
pub struct Rules {
    store: Arc<dyn Store>,
    hub: Hub,
}

impl Rules {
    pub fn new(store: Arc<dyn Store>, hub: Hub) -> Self {
        Self { store, hub }
    }

    /// The conversation and the user's preferences when a notification may go beyond the
    /// sockets at all; `None` when no channel may carry it now.
    async fn first_look(&self, n: &Notification, now: Timestamp) -> Option<(ConversationId, NotificationSettings)> {
        if !matches!(n.kind, NotificationKind::Message | NotificationKind::Mention) || n.read {
            return None;
        }
        let conversation = n.conversation_id?;
        if self.hub.is_viewing(n.user_id, conversation) {
            return None;
        }
        let settings = self.settings(n.user_id).await?;
        if settings.quiet_hours.as_ref().is_some_and(|q| q.covers(now)) {
            return None;
        }
        Some((conversation, settings))
    }

    /// Asked by a channel right before it sends what it held back (`waiting`: the user's unread
    /// notifications of the conversation): what of it is still due. Nothing when the
    /// conversation was read or is shown, the channel was turned off or quiet hours began; of
    /// the rest, nothing from someone either side blocked since, and of a conversation muted
    /// since only mentions: the checks the inbox applies when it makes a notification
    /// (`service::notifications`), made again.
    pub async fn still_due(
        &self,
        kind: ChannelKind,
        user: UserId,
        conversation: ConversationId,
        mut waiting: Vec<Notification>,
    ) -> Vec<Notification> {
        if waiting.is_empty() || self.hub.is_viewing(user, conversation) {
            return Vec::new();
        }
        match self.store.has_unread_notifications(user, conversation).await {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(e) => {
                tracing::warn!(user_id = %user, error = %e, "cannot tell whether a notification is still unread");
                return Vec::new();
            }
        }
        let Some(settings) = self.settings(user).await else { return Vec::new() };
        if !kind.allowed_by(&settings) || settings.quiet_hours.as_ref().is_some_and(|q| q.covers(Timestamp::now())) {
            return Vec::new();
        }
        match self.store.muted_members(conversation).await {
            Ok(muted) if muted.contains(&user) => waiting.retain(|n| n.kind == NotificationKind::Mention),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(user_id = %user, error = %e, "cannot tell whether the conversation is muted; nothing sent");
                return Vec::new();
            }
        }
        let mut due = Vec::with_capacity(waiting.len());
        for n in waiting {
            match n.actor_id {
                Some(actor) => match self.blocked_between(user, actor).await {
                    Ok(false) => due.push(n),
                    Ok(true) => {}
                    Err(e) => {
                        tracing::warn!(user_id = %user, error = %e, "cannot tell whether a block stands; nothing sent");
                        return Vec::new();
                    }
                },
                None => due.push(n),
            }
        }
        due
    }

    /// Whether either blocked the other, through the hub's cache as the inbox asks it.
    async fn blocked_between(&self, a: UserId, b: UserId) -> Result<bool, parlor_store::StoreError> {
        if let Some(known) = self.hub.cached_block(a, b) {
            return Ok(known);
        }
        let blocked = self.store.blocked_between(a, b).await?;
        self.hub.cache_block(a, b, blocked);
        Ok(blocked)
    }

    /// Whether the `notification.created` webhook may carry a notification now, by the rules
    /// of the channels that are not parlor's own switches: not while the user looks at its
    /// conversation, not in their quiet hours (nor when their preferences cannot be read).
    pub async fn webhook_wanted(&self, n: &Notification) -> bool {
        if n.conversation_id.is_some_and(|c| self.hub.is_viewing(n.user_id, c)) {
            return false;
        }
        let Some(settings) = self.settings(n.user_id).await else { return false };
        !settings.quiet_hours.as_ref().is_some_and(|q| q.covers(Timestamp::now()))
    }

    /// Whether the user is in their quiet hours now (not when their preferences cannot be read:
    /// the rules asked next say no then).
    pub async fn quiet_now(&self, user: UserId) -> bool {
        self.settings(user).await.is_some_and(|s| s.quiet_hours.as_ref().is_some_and(|q| q.covers(Timestamp::now())))
    }

    /// The user's preferences; `None` (tell nobody) when they cannot be read.
    async fn settings(&self, user: UserId) -> Option<NotificationSettings> {
        match self.store.notification_settings(user).await {
            Ok(settings) => Some(settings),
            Err(e) => {
                tracing::warn!(user_id = %user, error = %e, "notification settings not read; nothing sent");
                None
            }
        }
    }
}

/// Hands notifications to the channels the rules allow. Cheap to clone.
#[derive(Clone)]
pub struct Away {
    rules: Rules,
    channels: Arc<[Arc<dyn Channel>]>,
}

impl Away {
    pub fn new(rules: Rules, channels: Vec<Arc<dyn Channel>>) -> Self {
        Self { rules, channels: channels.into() }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// A notification was stored: tell each channel the rules allow.
    pub async fn tell(&self, n: &Notification) {
        if self.channels.is_empty() {
            return;
        }
        let Some((conversation_id, settings)) = self.rules.first_look(n, Timestamp::now()).await else { return };
        let online = self.rules.hub.is_online(n.user_id);
        for channel in self.channels.iter().filter(|c| c.kind().allowed_by(&settings)) {
            channel.hand(Notice { notification: n.clone(), conversation_id, online, settings: settings.clone() });
        }
    }

    /// A call rings `ring.user`: through the channels that ring, when they have no open
    /// connection on any node, left push on, and are not in their quiet hours.
    pub async fn ring(&self, ring: Ring) {
        if self.channels.is_empty() || self.rules.hub.is_online(ring.user) {
            return;
        }
        let Some(settings) = self.rules.settings(ring.user).await else { return };
        if settings.quiet_hours.as_ref().is_some_and(|q| q.covers(Timestamp::now())) {
            return;
        }
        for channel in self.channels.iter().filter(|c| c.kind().allowed_by(&settings)) {
            channel.ring(ring.clone());
        }
    }

    /// The user read a conversation here: what still waits for it is dropped.
    pub fn conversation_read(&self, user: UserId, conversation: ConversationId) {
        for channel in self.channels.iter() {
            channel.read(user, conversation);
        }
    }
}
