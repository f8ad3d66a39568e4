//! Presence: who is online, told only to the people they share a conversation with (and never
//! across a block). A user is online while any of their connections is open; going offline
//! waits out a grace period so a reload does not flicker. Last-seen times are kept in memory and
//! written in batches, so a reconnect storm costs no write per connection.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use parlor_core::{Timestamp, User, UserId};
use parlor_protocol::{ServerFrame, StatusView, UserView};
use parlor_store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::bus::{Hub, Transition};
use crate::error::{ApiError, ApiResult};

/// How often last-seen times are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Hub,
    store: Arc<dyn Store>,
    grace: Duration,
    /// Users announced online, with a generation bumped by every transition, so a grace timer
    /// started before a reconnect does nothing.
    online: DashMap<UserId, u64>,
    generation: std::sync::atomic::AtomicU64,
    /// Last-seen times not yet written.
    unsaved: DashMap<UserId, Timestamp>,
}

impl Presence {
    pub fn new(hub: Hub, store: Arc<dyn Store>, grace: Duration) -> Self {
        let inner = Inner {
            hub,
            store,
            grace,
            online: DashMap::new(),
            generation: Default::default(),
            unsaved: DashMap::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Follows the hub's transitions until shutdown, then writes the last-seen times.
    pub async fn run(self, mut transitions: mpsc::UnboundedReceiver<Transition>, shutdown: CancellationToken) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                t = transitions.recv() => match t {
                    Some(t) => self.on_transition(t),
                    None => break,
                },
                _ = flush.tick() => self.flush().await,
            }
        }
        // Everyone still connected was seen just now.
        let now = Timestamp::now();
        for entry in self.inner.online.iter() {
            self.inner.unsaved.insert(*entry.key(), now);
        }
        self.flush().await;
    }

    fn on_transition(&self, t: Transition) {
        let generation = self.inner.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.inner.unsaved.insert(t.user, Timestamp::now());
        if t.online {
            if self.inner.online.insert(t.user, generation).is_none() {
                let this = self.clone();
                tokio::spawn(async move { this.announce(t.user, true).await });
            }
        } else if let Some(mut entry) = self.inner.online.get_mut(&t.user) {
            *entry = generation;
            drop(entry);
            let this = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(this.inner.grace).await;
                this.settle_offline(t.user, generation).await;
            });
        }
    }

    async fn settle_offline(&self, user: UserId, generation: u64) {
        let gone = !self.inner.hub.is_online(user)
            && self.inner.online.remove_if(&user, |_, current| *current == generation).is_some();
        if gone {
            // `last_seen` stays the moment the last connection closed (noted on the transition).
            self.announce(user, false).await;
        }
    }

    async fn announce(&self, user: UserId, online: bool) {
        let store = &self.inner.store;
        let found = async {
            let who = store.user(user).await?;
            let contacts = store.contacts(user).await?;
            let blocked: HashSet<UserId> = store.block_partners(user).await?.into_iter().collect();
            Ok::<_, parlor_store::StoreError>((who, contacts, blocked))
        };
        match found.await {
            Ok((Some(who), contacts, blocked)) => {
                let last_seen = if online || who.hide_last_seen { None } else { self.last_seen(&who) };
                let frame = ServerFrame::UserStatusChange { user_id: user, is_online: online, last_seen };
                let to: Vec<UserId> = contacts.into_iter().filter(|c| !blocked.contains(c)).collect();
                // The lookups took time: a newer transition may have overtaken this one, and its
                // own announcement tells the truth.
                if self.inner.online.contains_key(&user) == online {
                    self.inner.hub.send_personal(&to, &frame);
                }
            }
            Ok((None, ..)) => {}
            Err(e) => tracing::warn!(user_id = %user, error = %e, "presence change not announced"),
        }
    }

    async fn flush(&self) {
        let seen: Vec<(UserId, Timestamp)> = self.inner.unsaved.iter().map(|e| (*e.key(), *e.value())).collect();
        if seen.is_empty() {
            return;
        }
        match self.inner.store.touch_last_seen(&seen).await {
            Ok(()) => {
                for (user, at) in seen {
                    self.inner.unsaved.remove_if(&user, |_, newer| *newer == at);
                }
            }
            Err(e) => tracing::warn!(error = %e, "last-seen times not saved; retrying"),
        }
    }

    /// Online as contacts see it: connected, or within the grace period after leaving.
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.online.contains_key(&user) || self.inner.hub.is_online(user)
    }

    fn last_seen(&self, user: &User) -> Option<Timestamp> {
        let unsaved = self.inner.unsaved.get(&user.id).map(|t| *t);
        unsaved.max(user.last_seen_at)
    }

    fn view(&self, viewer: UserId, user: &User) -> StatusView {
        let hidden = user.hide_last_seen && viewer != user.id;
        let is_online = self.is_online(user.id);
        StatusView {
            user_id: user.id,
            is_online,
            last_seen: if hidden || is_online { None } else { self.last_seen(user) },
        }
    }

    /// Whether `viewer` may see `target`'s presence: themselves, or someone they share a
    /// conversation with and neither blocked.
    async fn may_see(&self, viewer: UserId, target: UserId) -> ApiResult<bool> {
        let store = &self.inner.store;
        Ok(viewer == target
            || (store.share_conversation(viewer, target).await? && !store.blocked_between(viewer, target).await?))
    }

    /// One user's status; the same 404 as an unknown user for anyone the viewer may not see.
    pub async fn status(&self, viewer: UserId, target: UserId) -> ApiResult<StatusView> {
        let user = self.inner.store.user(target).await?.ok_or_else(|| ApiError::not_found("user"))?;
        if !self.may_see(viewer, target).await? {
            return Err(ApiError::not_found("user"));
        }
        Ok(self.view(viewer, &user))
    }

    /// Everyone the viewer shares a conversation with, and their status (seed 004's presence list).
    pub async fn contacts(&self, viewer: UserId) -> ApiResult<Vec<StatusView>> {
        let visible = self.visible_contacts(viewer).await?;
        let ids: Vec<UserId> = visible.into_iter().collect();
        let mut users = self.inner.store.users(&ids).await?;
        users.sort_by_key(|u| u.id);
        Ok(users.iter().map(|u| self.view(viewer, u)).collect())
    }

    /// Fills `is_online` and `last_seen` in a list of users, for those the viewer may see.
    pub async fn annotate(&self, viewer: UserId, users: &[User]) -> ApiResult<Vec<UserView>> {
        // One user (a profile) is a direct check; a list needs the viewer's whole contact set.
        let visible: HashSet<UserId> = match users {
            [one] if self.may_see(viewer, one.id).await? => HashSet::from([one.id]),
            [_] => HashSet::new(),
            _ => self.visible_contacts(viewer).await?,
        };
        Ok(users
            .iter()
            .map(|u| {
                let mut view = UserView::from(u);
                if u.id == viewer || visible.contains(&u.id) {
                    let status = self.view(viewer, u);
                    view.is_online = Some(status.is_online);
                    view.last_seen = status.last_seen;
                }
                view
            })
            .collect())
    }

    async fn visible_contacts(&self, viewer: UserId) -> ApiResult<HashSet<UserId>> {
        let store = &self.inner.store;
        let blocked: HashSet<UserId> = store.block_partners(viewer).await?.into_iter().collect();
        Ok(store.contacts(viewer).await?.into_iter().filter(|c| !blocked.contains(c)).collect())
    }
}
