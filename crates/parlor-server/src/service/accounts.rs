//! Accounts: registering, logging in, refreshing tokens, and profiles.

use std::sync::Arc;

use parlor_core::{
    AvatarUrl, DisplayName, EmailAddress, ExternalId, NewUser, Password, ProfileUpdate, User, UserId, Username,
    ValidationError,
};
use parlor_protocol::ErrorCode;
use parlor_store::{Store, UserFlags};

use crate::auth::{Passwords, Redeemed, Tokens};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult, Kind};
use crate::user_info::{PlatformProfile, UserInfo};

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    tokens: Tokens,
    passwords: Passwords,
    /// To close a revoked session's sockets.
    hub: Hub,
    /// Where to ask the platform who a user named by reference is (`host_users`), if anywhere.
    user_info: Option<Arc<UserInfo>>,
}

/// A fresh pair of tokens for a user.
pub struct Session {
    pub user: User,
    pub access: String,
    pub refresh: String,
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, tokens: Tokens, passwords: Passwords, hub: Hub) -> Self {
        Self { store, tokens, passwords, hub, user_info: None }
    }

    pub async fn register(&self, username: &str, password: String, name: Option<&str>) -> ApiResult<Session> {
        let user = self.create(username, password, name).await?;
        tracing::info!(user_id = %user.id, "user registered");
        self.session(user).await
    }

    /// A password account, by the same rules as registering (the operator's `create-user` too).
    pub async fn create(&self, username: &str, password: String, name: Option<&str>) -> ApiResult<User> {
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        let name = DisplayName::parse(name.unwrap_or(username.as_str()))?;
        let password_hash = self.passwords.hash(password).await?;
        Ok(self.store.create_user(NewUser { username, name, password_hash }).await?)
    }

    pub async fn login(&self, username: &str, password: String) -> ApiResult<Session> {
        let wrong =
            || ApiError::new(Kind::Unauthenticated, ErrorCode::InvalidCredentials, "username or password is wrong");
        let password = Password::parse(password).map_err(|_| wrong())?;
        let found = self.store.credentials(username).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        match (self.passwords.verify(password, hash).await?, user) {
            (true, Some(user)) => self.session(user).await,
            _ => Err(wrong()),
        }
    }

    /// The next pair of a session. A refresh token used before means someone else holds a
    /// copy: the session is revoked (the store dropped its tokens), its access tokens stop
    /// working and its sockets close, on every node.
    pub async fn refresh(&self, refresh: &str) -> ApiResult<Session> {
        let invalid = || ApiError::unauthorized("refresh token is invalid, expired or already used");
        let (id, session, refresh) = match self.tokens.redeem_refresh(refresh).await? {
            Redeemed::Rotated { user, session, refresh } => (user, session, refresh),
            Redeemed::Reused { user, session } => {
                tracing::warn!(user_id = %user, session_id = %session, "refresh token reused: session revoked");
                self.hub.end_session(user, session);
                return Err(invalid());
            }
            Redeemed::Invalid => return Err(invalid()),
        };
        let user = self
            .store
            .user(id)
            .await?
            .ok_or_else(|| ApiError::unauthorized("refresh token's user no longer exists"))?;
        if user.disabled {
            return Err(ApiError::account_disabled());
        }
        let access = self.tokens.issue_access(user.id, session)?;
        Ok(Session { user, access, refresh })
    }

    /// A new session: a login or a registration.
    async fn session(&self, user: User) -> ApiResult<Session> {
        if user.disabled {
            return Err(ApiError::account_disabled());
        }
        let (session, refresh) = self.tokens.start_session(user.id).await?;
        let access = self.tokens.issue_access(user.id, session)?;
        Ok(Session { user, access, refresh })
    }

    pub async fn update_profile(
        &self,
        user: UserId,
        name: Option<&str>,
        avatar: Option<Option<&str>>,
        hide_last_seen: Option<bool>,
    ) -> ApiResult<User> {
        let update = ProfileUpdate {
            name: name.map(DisplayName::parse).transpose()?,
            avatar: match avatar {
                Some(Some(url)) => Some(Some(AvatarUrl::parse(url)?)),
                Some(None) => Some(None),
                None => None,
            },
            hide_last_seen,
        };
        Ok(self.store.update_profile(user, &update).await?)
    }

    /// Sets or (with `None`) removes a standalone user's email address. A platform's users get
    /// theirs from its tokens' `email` claim, which would overwrite it.
    pub async fn set_email(&self, user: &User, email: Option<&str>) -> ApiResult<()> {
        if user.external_id.is_some() {
            return Err(ValidationError::new("email", "comes from your platform's sign-in; change it there").into());
        }
        let email = email.map(EmailAddress::parse).transpose()?;
        Ok(self.store.set_email(user.id, email.as_ref()).await?)
    }

    /// The host platform's user, created or refreshed (server API). Unlike a host token's
    /// claims, bad values here are refused: the platform's backend can fix them.
    pub async fn upsert_external(
        &self,
        external_id: &str,
        name: Option<&str>,
        avatar: Option<&str>,
    ) -> ApiResult<User> {
        let external = ExternalId::parse(external_id).map_err(|_| {
            ApiError::from(parlor_core::ValidationError::new("external_id", "must be 1 to 128 printable characters"))
        })?;
        let name = name.map(DisplayName::parse).transpose()?;
        let avatar = avatar.map(AvatarUrl::parse).transpose()?;
        Ok(self.store.upsert_external_user(&external, name.as_ref(), avatar.as_ref()).await?)
    }

    /// Asks the platform about users created on first reference.
    pub fn asking_the_platform(mut self, user_info: Option<Arc<UserInfo>>) -> Self {
        self.user_info = user_info;
        self
    }

    /// The host platform's user named by a client (a "Chat with 42" button). In host-app mode
    /// parlor creates them on first reference, named by the platform's user-info URL if it has
    /// one, else `User 42` until the platform names them (their first token's claims, or the
    /// server API's upsert); otherwise they must exist.
    pub async fn platform_user_by_reference(&self, external_id: &str) -> ApiResult<User> {
        let external = ExternalId::parse(external_id).map_err(|_| ApiError::not_found("user"))?;
        if let Some(user) = self.store.user_by_external_id(&external).await? {
            return Ok(user);
        }
        if !self.tokens.host_app() {
            return Err(ApiError::not_found("user"));
        }
        let profile = match &self.user_info {
            Some(info) => info.lookup(&external).await,
            None => PlatformProfile::default(),
        };
        let user = self.store.upsert_external_user(&external, profile.name.as_ref(), profile.avatar.as_ref()).await?;
        tracing::info!(user_id = %user.id, named = profile.name.is_some(), "platform user created on first reference");
        Ok(user)
    }

    pub async fn user(&self, id: UserId) -> ApiResult<User> {
        self.store.user(id).await?.ok_or_else(|| ApiError::not_found("user"))
    }

    /// Deletes refresh tokens past their expiry (housekeeping); returns how many.
    pub async fn prune_refresh_tokens(&self) -> u64 {
        self.store.prune_refresh_tokens(parlor_core::Timestamp::now()).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "pruning refresh tokens failed");
            0
        })
    }
}

/// The longest-lived token the operator may issue: a year and a day.
const MAX_TOKEN_TTL_SECS: i64 = 366 * 24 * 3600;

/// What the operator asks of accounts (`parlor admin`).
impl Accounts {
    /// A password account made by the operator, optionally a server admin.
    pub async fn create_account(
        &self,
        username: &str,
        password: String,
        name: Option<&str>,
        admin: bool,
    ) -> ApiResult<User> {
        let mut user = self.create(username, password, name).await?;
        if admin {
            user = self.store.set_user_flags(user.id, &UserFlags { admin: Some(true), disabled: None }).await?;
        }
        tracing::info!(user_id = %user.id, admin, "account created by the operator");
        Ok(user)
    }

    /// An access token for `user`, living `ttl_secs` (the server's default when `None`), and
    /// that lifetime. Disabled users get none.
    pub async fn issue_token(&self, user: UserId, ttl_secs: Option<i64>) -> ApiResult<(String, i64)> {
        let ttl = ttl_secs.unwrap_or(self.tokens.access_ttl_secs());
        if !(1..=MAX_TOKEN_TTL_SECS).contains(&ttl) {
            return Err(parlor_core::ValidationError::new("ttl_secs", "must be 1 second to 366 days").into());
        }
        let user = self.user(user).await?;
        if user.disabled {
            return Err(ApiError::account_disabled());
        }
        let token = self.tokens.issue_access_for(user.id, ttl)?;
        tracing::info!(user_id = %user.id, ttl_secs = ttl, "access token issued by the operator");
        Ok((token, ttl))
    }

    /// A user by username, ignoring case.
    pub async fn by_username(&self, username: &str) -> ApiResult<User> {
        let found = self.store.users_by_usernames(&[username.to_owned()]).await?;
        found.into_iter().next().ok_or_else(|| ApiError::not_found("user"))
    }
}
