//! Email, the channel for people who are away longest: an unread message or mention not seen
//! anywhere within the user's delay (`email_delay_minutes`, else `email.delay_minutes`) is
//! mailed to their address, at most one mail per conversation per delay.
//!
//! Nothing waits in memory: the store is the queue. [`Mailer`] (`mailer.rs`) reads due mail
//! with `Store::unmailed_notifications` every round and claims each with a compare-and-set on
//! the conversation's mail mark (`Store::swap_mail_mark`), so restarts lose nothing and several
//! nodes never send the same mail. `compose.rs` writes the mail (text and HTML, the link to
//! the conversation, RFC 8058 one-click unsubscribe); `unsubscribe.rs` signs the unsubscribe
//! token; `settings.rs` is `[email]`. Off while `email.smtp_url` is empty.
//!
//! The SMTP server is the operator's (`email.smtp_url`), never a client's choice, so the
//! outbound-address guard does not apply: addresses only name the recipient to that server.

mod compose;
mod mailer;
mod settings;
mod unsubscribe;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parlor_core::{ConversationId, UserId, ValidationError};

use super::{Away, Channel, ChannelKind, Notice, Rules, SettingsChange};
use crate::error::ApiResult;
use crate::observability::EmailMetrics;
pub use mailer::Mailer;
pub use settings::EmailSettings;
pub use unsubscribe::{KEY_PURPOSE, UnsubscribeKey};

/// The email channel: what requests need (the unsubscribe key). Cheap to clone.
#[derive(Clone)]
pub struct Email {
    key: Arc<UnsubscribeKey>,
}

impl Email {
    /// Sets up the mailer for `email.smtp_url` (which must be set); it runs once
    /// [`Mailer::run`] is spawned.
    pub fn new(
        settings: &EmailSettings,
        key: UnsubscribeKey,
        store: Arc<dyn parlor_store::Store>,
        rules: Rules,
        metrics: EmailMetrics,
    ) -> anyhow::Result<(Self, Mailer)> {
        let url = settings.smtp_url().ok_or_else(|| anyhow::anyhow!("email.smtp_url is not set"))?;
        let transport = mailer::transport(url, Duration::from_secs(settings.timeout_secs))?;
        let key = Arc::new(key);
        let mailer = Mailer {
            store,
            rules,
            transport,
            from: settings.from_mailbox()?,
            settings: settings.clone(),
            key: key.clone(),
            metrics,
            attempts: HashMap::new(),
            held: HashSet::new(),
        };
        Ok((Self { key }, mailer))
    }

    /// The user an unsubscribe token names, whose email is then turned off. A token this
    /// server did not sign is refused, naming the `token`.
    pub async fn unsubscribe(&self, away: &Away, token: &str) -> ApiResult<UserId> {
        let user = self.user_of(token)?;
        away.change_settings(user, SettingsChange { email: Some(false), ..SettingsChange::default() }).await?;
        tracing::info!(user_id = %user, "email turned off by an unsubscribe link");
        Ok(user)
    }

    /// The user a token names, if this server signed it.
    pub fn user_of(&self, token: &str) -> ApiResult<UserId> {
        self.key.verify(token).ok_or_else(|| {
            ValidationError::new(
                "token",
                "is not a valid unsubscribe link: it was changed or cut short, or comes from another server",
            )
            .into()
        })
    }
}

impl Channel for Email {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    /// Nothing to do: the mailer finds due mail in the store, after the delay.
    fn hand(&self, _notice: Notice) {}

    /// Nothing to do: a read settles the notifications the mailer would read.
    fn read(&self, _user: UserId, _conversation: ConversationId) {}
}
