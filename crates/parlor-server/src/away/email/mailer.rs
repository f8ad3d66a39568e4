//! The sending loop: every `interval` it reads the due mail from the store (nothing is kept in
//! memory but retry counts), claims each conversation's mail with a compare-and-set on its mail
//! mark (so of several nodes exactly one sends it, and a restart loses nothing), asks the rules
//! once more, and sends. The mark moves before the mail goes: a crash between the two loses
//! that mail rather than sending it twice. Mail due during the user's quiet hours is not
//! claimed but held: it goes in the first round after they end.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use parlor_core::{ConversationId, ConversationKind, Notification, Timestamp, UserId};
use parlor_store::{MailMark, NotificationFilter, Store, Unmailed};
use tokio_util::sync::CancellationToken;

use super::EmailSettings;
use super::compose::{About, Links, Note, compose};
use super::unsubscribe::UnsubscribeKey;
use crate::away::{ChannelKind, Rules};
use crate::observability::EmailMetrics;

/// Notifications read to compose one mail (the newest; a mail shows the latest few).
const NOTES_PER_MAIL: usize = 5;

/// A mail not sent: whether trying again may help.
enum Failure {
    Temporary(String),
    Permanent(String),
}

/// The mailer's task, started by `Server::run`.
pub struct Mailer {
    pub(super) store: Arc<dyn Store>,
    pub(super) rules: Rules,
    pub(super) transport: AsyncSmtpTransport<Tokio1Executor>,
    pub(super) from: Mailbox,
    pub(super) settings: EmailSettings,
    pub(super) key: Arc<UnsubscribeKey>,
    pub(super) metrics: EmailMetrics,
    /// Failed attempts of mails still due, by user, conversation and newest notification.
    /// Lost on restart, so a restart allows a mail its attempts again.
    pub(super) attempts: HashMap<(UserId, ConversationId, i64), u32>,
    /// Mails held last round for their user's quiet hours: each round reads that many more, so
    /// held mail never takes the place of mail that may go.
    pub(super) held: HashSet<(UserId, ConversationId)>,
}

/// What became of one due mail.
enum Outcome {
    Sent,
    /// The rules said no (read, looked at, email off, muted, blocked): settled unsent.
    Skipped,
    /// Another node claimed it first.
    Taken,
    /// The user is in their quiet hours: left unclaimed until they end.
    Held,
    /// Tried again next round.
    Retry,
    Failed,
}

impl Mailer {
    /// Runs rounds every `email.interval()` until shutdown. A mail being sent when shutdown
    /// comes finishes (bounded by `email.timeout_secs`); the rest wait in the store.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(self.settings.interval());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => self.round(&shutdown).await,
            }
        }
        self.transport.shutdown().await;
    }

    /// One round: each due conversation's mail, oldest first.
    async fn round(&mut self, shutdown: &CancellationToken) {
        let delay_ms = i64::try_from(self.settings.delay().as_millis()).unwrap_or(i64::MAX);
        let held = u32::try_from(self.held.len()).unwrap_or(u32::MAX);
        let limit = self.settings.batch.saturating_add(held);
        let due = match self.store.unmailed_notifications(Timestamp::now(), delay_ms, limit).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "due mail not read; trying next round");
                return;
            }
        };
        // Retry counts of mails no longer due (sent elsewhere, read, given up) are forgotten.
        self.attempts.retain(|key, _| due.iter().any(|d| (d.user_id, d.conversation_id, d.newest_id) == *key));
        self.held.clear();
        let mut tried = 0;
        for item in due {
            if shutdown.is_cancelled() || tried >= self.settings.batch {
                return;
            }
            let outcome = self.one(&item).await;
            if let Outcome::Held = outcome {
                self.held.insert((item.user_id, item.conversation_id));
                continue;
            }
            tried += 1;
            let counter = match outcome {
                Outcome::Sent => &self.metrics.sent,
                Outcome::Skipped => &self.metrics.skipped,
                Outcome::Retry => &self.metrics.retried,
                Outcome::Failed => &self.metrics.failed,
                Outcome::Taken | Outcome::Held => continue,
            };
            counter.inc();
        }
    }

    async fn one(&mut self, item: &Unmailed) -> Outcome {
        let (user, conversation) = (item.user_id, item.conversation_id);
        // Before the claim: a claimed mail that is not sent is settled, and this one is only late.
        if self.rules.quiet_now(user).await {
            return Outcome::Held;
        }
        let claim = MailMark { through_id: item.newest_id, at: Timestamp::now() };
        match self.store.swap_mail_mark(user, conversation, item.last_mail, Some(claim)).await {
            Ok(true) => {}
            Ok(false) => return Outcome::Taken,
            Err(e) => {
                tracing::warn!(user_id = %user, conversation_id = %conversation, error = %e, "mail not claimed");
                return Outcome::Retry;
            }
        }
        let failure = match self.attempt(item).await {
            Ok(true) => {
                tracing::info!(user_id = %user, conversation_id = %conversation, "mail sent");
                return Outcome::Sent;
            }
            Ok(false) => return Outcome::Skipped,
            Err(failure) => failure,
        };
        let key = (user, conversation, item.newest_id);
        let tried = self.attempts.get(&key).copied().unwrap_or(0) + 1;
        match failure {
            Failure::Temporary(why) if tried < self.settings.max_attempts => {
                tracing::warn!(user_id = %user, conversation_id = %conversation, attempt = tried, error = %why, "mail not sent; trying again next round");
                self.attempts.insert(key, tried);
                // Put the old mark back so the mail is due again (unless someone moved it).
                match self.store.swap_mail_mark(user, conversation, Some(claim), item.last_mail).await {
                    Ok(_) => Outcome::Retry,
                    Err(e) => {
                        tracing::warn!(user_id = %user, error = %e, "mail claim not released; the mail is lost");
                        Outcome::Failed
                    }
                }
            }
            Failure::Temporary(why) | Failure::Permanent(why) => {
                tracing::warn!(user_id = %user, conversation_id = %conversation, attempts = tried, error = %why, "mail given up");
                self.attempts.remove(&key);
                Outcome::Failed
            }
        }
    }

    /// Sends the mail if the rules, asked right before, leave anything of it (still unread and
    /// not on screen, email still on, not in quiet hours now, no mute or block since); false
    /// when they leave nothing.
    async fn attempt(&self, item: &Unmailed) -> Result<bool, Failure> {
        let store_failed = |e: parlor_store::StoreError| Failure::Temporary(format!("store: {e}"));
        let filter = NotificationFilter { before: Some(item.newest_id + 1), unread_only: true, limit: 100 };
        let waiting: Vec<Notification> = self
            .store
            .notifications(item.user_id, &filter)
            .await
            .map_err(store_failed)?
            .into_iter()
            .filter(|n| n.conversation_id == Some(item.conversation_id))
            .filter(|n| item.last_mail.is_none_or(|m| n.id > m.through_id))
            .collect();
        let due = self.rules.still_due(ChannelKind::Email, item.user_id, item.conversation_id, waiting).await;
        if due.is_empty() {
            return Ok(false);
        }
        self.send(item, due).await.map(|()| true)
    }

    async fn send(&self, item: &Unmailed, due: Vec<Notification>) -> Result<(), Failure> {
        let to: Mailbox =
            item.email.parse().map_err(|_| Failure::Permanent("the stored address is not a mailbox".to_owned()))?;
        let store_failed = |e: parlor_store::StoreError| Failure::Temporary(format!("store: {e}"));
        let Some(overview) = self.store.overview(item.conversation_id, item.user_id).await.map_err(store_failed)?
        else {
            return Err(Failure::Permanent("no longer a member of the conversation".to_owned()));
        };
        let notes: Vec<Note> = due
            .into_iter()
            .take(NOTES_PER_MAIL)
            .map(|n| Note {
                kind: n.kind,
                actor: n.actor_name.unwrap_or_else(|| "Someone".to_owned()),
                count: n.count,
                preview: if self.settings.include_content { n.preview } else { String::new() },
            })
            .collect();
        let room = match overview.conversation.kind {
            ConversationKind::Direct => None,
            _ => Some(overview.conversation.title.as_deref().unwrap_or("a room")),
        };
        let base = self.settings.public_base();
        let links = Links {
            conversation: format!("{base}/#/c/{}", item.conversation_id.0),
            unsubscribe: format!("{base}/api/email/unsubscribe?token={}", self.key.token(item.user_id)),
        };
        let mail = compose(&self.from, to, &About { room, notes: &notes }, &links)
            .map_err(|e| Failure::Permanent(format!("mail not composed: {e}")))?;
        match self.transport.send(mail).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(Failure::Temporary(e.to_string())),
        }
    }
}

/// The transport of `email.smtp_url`, with `email.timeout_secs` per command.
pub(super) fn transport(url: &str, timeout: Duration) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        // Never the URL in the error: it may hold a password.
        .map_err(|e| anyhow::anyhow!("invalid setting `email.smtp_url`: {}", without_url(&e.to_string(), url)))?;
    Ok(builder.timeout(Some(timeout)).build())
}

fn without_url(error: &str, url: &str) -> String {
    error.replace(url, "<email.smtp_url>")
}
