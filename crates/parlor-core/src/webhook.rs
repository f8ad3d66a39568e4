//! Webhooks in domain terms: the endpoint's URL and secret, the ids of endpoints and outbox
//! entries, and the rule that names each logged event for a webhook (`message.created`...).

use serde::{Deserialize, Serialize};

use crate::{ConversationEvent, EventKind, MessageKind, Timestamp, ValidationError};

/// An endpoint registered to receive events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookId(pub i64);

/// A position in the webhook outbox: one logged event, numbered in commit order across all
/// conversations. Receivers see it as the delivery id and dedupe on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct OutboxId(pub i64);

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for OutboxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an endpoint receives events: an `http` or `https` URL with a host, at most 2048 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::new("url", "must be an http or https URL with a host");
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err(ValidationError::new("url", "must be at most 2048 bytes"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let lower = raw.to_ascii_lowercase();
        let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(invalid)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials in the URL are allowed (basic auth); the host is what follows them.
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(addr, _)| addr).ok_or_else(invalid)?,
            None => host_port.split(':').next().unwrap_or_default(),
        };
        let port = host_port.rsplit_once(']').map_or(host_port, |(_, after)| after).split_once(':').map(|(_, p)| p);
        let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:%".contains(c));
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        if !host_ok || !port_ok {
            return Err(invalid());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key an endpoint's deliveries are signed with: 16 to 256 printable ASCII characters.
/// Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if !(16..=256).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new("secret", "must be 16 to 256 printable ASCII characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a webhook delivery is about. Receipts (read and delivered positions) are not webhook
/// events: they are too frequent, and the REST API has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    MessageCreated,
    MessageEdited,
    MessageDeleted,
    ReactionChanged,
    ConversationCreated,
    ConversationUpdated,
    MemberAdded,
    MemberRemoved,
    MemberLeft,
    MemberRoleChanged,
    /// A notification was made for someone (a message while away, a mention...): not a logged
    /// event, written to the outbox by the notifications service.
    NotificationCreated,
    /// An account was erased (docs/privacy.md): not a logged event, queued by the erasure.
    UserDeleted,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::MessageCreated,
        EventType::MessageEdited,
        EventType::MessageDeleted,
        EventType::ReactionChanged,
        EventType::ConversationCreated,
        EventType::ConversationUpdated,
        EventType::MemberAdded,
        EventType::MemberRemoved,
        EventType::MemberLeft,
        EventType::MemberRoleChanged,
        EventType::NotificationCreated,
        EventType::UserDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageCreated => "message.created",
            EventType::MessageEdited => "message.edited",
            EventType::MessageDeleted => "message.deleted",
            EventType::ReactionChanged => "reaction.changed",
            EventType::ConversationCreated => "conversation.created",
            EventType::ConversationUpdated => "conversation.updated",
            EventType::MemberAdded => "member.added",
            EventType::MemberRemoved => "member.removed",
            EventType::MemberLeft => "member.left",
            EventType::MemberRoleChanged => "member.role_changed",
            EventType::NotificationCreated => "notification.created",
            EventType::UserDeleted => "user.deleted",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
            let shown: String = raw.chars().take(64).collect();
            ValidationError::new("events", format!("unknown event type `{shown}`; expected {}", known.join(", ")))
        })
    }

    /// The type a logged event is delivered as, or `None` when webhooks do not carry it.
    /// Membership changes are system messages in the log; they become `member.*` here. The
    /// system message recording a settings change is skipped: its `conversation.updated` event
    /// carries the change.
    pub fn of(event: &ConversationEvent) -> Option<EventType> {
        match &event.kind {
            EventKind::MessageCreated(m) => match &m.kind {
                MessageKind::Text | MessageKind::Call(_) => Some(EventType::MessageCreated),
                MessageKind::System(s) => match s.action.as_str() {
                    "room_created" => Some(EventType::ConversationCreated),
                    "members_added" => Some(EventType::MemberAdded),
                    "member_removed" => Some(EventType::MemberRemoved),
                    "member_left" => Some(EventType::MemberLeft),
                    "role_changed" => Some(EventType::MemberRoleChanged),
                    _ => None,
                },
            },
            EventKind::MessageEdited(_) => Some(EventType::MessageEdited),
            EventKind::MessageDeleted { .. } => Some(EventType::MessageDeleted),
            EventKind::ReactionChanged { .. } => Some(EventType::ReactionChanged),
            EventKind::ConversationUpdated { .. } => Some(EventType::ConversationUpdated),
            EventKind::MessagesRead { .. } | EventKind::MessagesDelivered { .. } => None,
        }
    }
}

/// A registered endpoint and how far it has got through the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Option<Vec<EventType>>,
    pub secret: WebhookSecret,
    /// The last outbox entry delivered to it or skipped; it gets what comes after.
    pub cursor: OutboxId,
    pub created_at: Timestamp,
}

impl Webhook {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.events.as_ref().is_none_or(|wanted| wanted.contains(&event_type))
    }
}

/// A recorded delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub outbox_id: OutboxId,
    /// As recorded; a type a later version no longer knows stays readable.
    pub event_type: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_http_with_a_host() {
        for ok in [
            "https://hooks.example.com/parlor",
            "http://127.0.0.1:8080/in?x=1",
            "HTTPS://Example.com",
            "http://user:pw@example.com:443/",
            "http://[::1]:9000/hook",
        ] {
            assert!(WebhookUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.com",
            "example.com/hook",
            "https://",
            "https:///path",
            "http://:80/",
            "http://exa mple.com",
            "http://example.com:0/",
            "http://example.com:99999/",
            "http://[::1/",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_types_round_trip_and_unknown_ones_are_named() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
        }
        let err = EventType::parse("message.exploded").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("message.exploded") && err.contains("member.added"), "{err}");
    }

    #[test]
    fn secrets_are_long_enough_and_never_shown() {
        assert!(WebhookSecret::parse("short").is_err());
        assert!(WebhookSecret::parse("has a space in it!!").is_err());
        let secret = WebhookSecret::parse("0123456789abcdef").map(|s| format!("{s:?}")).unwrap_or_default();
        assert_eq!(secret, "<redacted>");
    }
}
