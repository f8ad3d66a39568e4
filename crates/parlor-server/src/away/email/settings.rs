//! `[email]`: the mail settings (commented in `config.default.toml`, docs/notifications.md).

use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;

use crate::config::ConfigError;
use crate::secret::Secret;

/// Longest server-wide delay, as for a user's own (`MAX_EMAIL_DELAY_MINUTES`).
const MAX_DELAY_MINUTES: f64 = parlor_core::MAX_EMAIL_DELAY_MINUTES as f64;

/// Email to people who are away (docs/notifications.md).
#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    /// The mail server: `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS),
    /// `smtp://host:587?tls=opportunistic`, `smtps://host:465` (TLS), with `user:password@`
    /// for AUTH. Empty: no mail is sent. A secret: it may hold a password.
    pub smtp_url: Secret,
    /// The `From` of every mail, e.g. `parlor <chat@example.com>`.
    pub from: String,
    /// Where people open parlor's web client, e.g. `https://chat.example.com`: the base of the
    /// link to the conversation and of the unsubscribe link.
    pub public_url: String,
    /// Minutes an unread message waits before it is mailed, unless the user chose their own;
    /// fractions allowed (tests use a second or two).
    pub delay_minutes: f64,
    /// false: mails say "New message" instead of the message's text.
    pub include_content: bool,
    /// Longest wait for the mail server, per mail, in seconds.
    pub timeout_secs: u64,
    /// Tries per mail: a temporary failure (4xx, no connection) is tried again the next round;
    /// a permanent one (5xx) at once gives up.
    pub max_attempts: u32,
    /// Conversations mailed per round at most; the rest wait for the next round.
    pub batch: u32,
}

impl EmailSettings {
    /// The mail server's URL; `None`: email is off.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.get()
    }

    /// The server's delay.
    pub fn delay(&self) -> Duration {
        // Checked at load; a config built in code that skipped the check gets no delay, not a panic.
        Duration::try_from_secs_f64(self.delay_minutes * 60.0).unwrap_or_default()
    }

    /// How often the mailer looks for due mail: a fifth of the delay, between 0.1 s and 30 s, so
    /// a mail goes at most that much later than it is due.
    pub fn interval(&self) -> Duration {
        (self.delay() / 5).clamp(Duration::from_millis(100), Duration::from_secs(30))
    }

    /// `from`, parsed.
    pub fn from_mailbox(&self) -> Result<Mailbox, ConfigError> {
        self.from.parse().map_err(|_| {
            ConfigError::new(format!(
                "invalid setting `email.from`: `{}` is not an address such as `parlor <chat@example.com>`",
                self.from
            ))
        })
    }

    /// `public_url` without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let delay_ok =
            self.delay_minutes.is_finite() && self.delay_minutes > 0.0 && self.delay_minutes <= MAX_DELAY_MINUTES;
        let checks = [
            ("email.delay_minutes", delay_ok, "must be more than 0 and at most 1440"),
            ("email.timeout_secs", self.timeout_secs >= 1, "must be at least 1"),
            ("email.max_attempts", self.max_attempts >= 1, "must be at least 1"),
            ("email.batch", self.batch >= 1, "must be at least 1"),
        ];
        if let Some((key, _, why)) = checks.iter().find(|(_, ok, _)| !ok) {
            return Err(ConfigError::new(format!("invalid setting `{key}`: {why}")));
        }
        let Some(url) = self.smtp_url() else { return Ok(()) };
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            // Never the URL itself: it may hold a password.
            return Err(ConfigError::new(
                "invalid setting `email.smtp_url`: expected smtp://host:port (add ?tls=required for STARTTLS) \
                 or smtps://host:port",
            ));
        }
        self.from_mailbox()?;
        let base = self.public_base();
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() <= "https://".len() {
            return Err(ConfigError::new(
                "invalid setting `email.public_url`: mail links need parlor's address, e.g. https://chat.example.com",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_server(url: &str, public_url: &str) -> EmailSettings {
        let mut settings = crate::config::Config::defaults().email;
        settings.smtp_url = Secret::new(url);
        settings.public_url = public_url.to_owned();
        settings
    }

    #[test]
    fn the_defaults_with_a_server_and_a_public_url_pass_and_mistakes_name_their_key() {
        assert!(crate::config::Config::defaults().email.smtp_url().is_none(), "off by default");
        let fine = with_server("smtps://user:pw@mail.example:465", "https://chat.example/");
        assert!(fine.check().is_ok(), "{:?}", fine.check());
        assert_eq!(fine.public_base(), "https://chat.example");
        assert_eq!(fine.interval(), Duration::from_secs(30), "a fifth of 10 minutes, at most 30 s");
        let error = |s: EmailSettings| s.check().expect_err("refused").to_string();
        assert!(error(with_server("smtp://mail.example", "")).contains("`email.public_url`"));
        let scheme = error(with_server("http://user:secret@mail.example", "https://chat.example"));
        assert!(scheme.contains("`email.smtp_url`") && !scheme.contains("secret"), "{scheme}");
        let mut from = with_server("smtp://mail.example", "https://chat.example");
        from.from = "not an address".into();
        assert!(error(from).contains("`email.from`"));
        let mut delay = with_server("smtp://mail.example", "https://chat.example");
        delay.delay_minutes = 0.0;
        assert!(error(delay).contains("`email.delay_minutes`"));
    }
}
