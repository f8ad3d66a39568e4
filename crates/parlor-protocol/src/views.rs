//! How users, conversations and messages look on the wire, built from the domain types.

use parlor_core::{
    Attachment, AttachmentId, AttachmentKind, CallRecord, ConversationId, ConversationOverview, Member, Message,
    MessageHit, MessageId, MessageKind, Notification, Reaction, ReplyPreview, Seq, SystemEvent, Timestamp, User,
    UserId,
};
use serde::Serialize;

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub username: Option<String>,
    pub name: String,
    pub avatar: Option<String>,
    /// Presence, only in lists where the caller may see it (people they share a conversation with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// Only in the user's own profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_last_seen: Option<bool>,
    /// Only in the user's own profile, when they have an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A user as the server API shows them to the host platform: with its own id for them.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ServerUserView {
    pub id: UserId,
    pub external_id: Option<String>,
    pub username: Option<String>,
    pub name: String,
    pub avatar: Option<String>,
}

impl From<&User> for ServerUserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            external_id: u.external_id.clone(),
            username: u.username.clone(),
            name: u.name.clone(),
            avatar: u.avatar.clone(),
        }
    }
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            avatar: u.avatar.clone(),
            is_online: None,
            last_seen: None,
            hide_last_seen: None,
            email: None,
        }
    }
}

/// A current member: who, their role, and how far they have received and read.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub user: UserView,
    pub role: &'static str,
    pub last_read_seq: Seq,
    pub delivered_seq: Seq,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user: UserView::from(&m.user),
            role: m.role.as_str(),
            last_read_seq: m.last_read_seq,
            delivered_seq: m.delivered_seq,
        }
    }
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ReplyView {
    pub id: MessageId,
    pub sender_id: UserId,
    pub sender_name: String,
    pub content: String,
    pub deleted: bool,
}

impl From<&ReplyPreview> for ReplyView {
    fn from(r: &ReplyPreview) -> Self {
        Self {
            id: r.id,
            sender_id: r.sender_id,
            sender_name: r.sender_name.clone(),
            content: r.content.clone(),
            deleted: r.deleted,
        }
    }
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReactionView {
    pub emoji: String,
    pub count: usize,
    pub user_ids: Vec<UserId>,
}

impl ReactionView {
    pub fn list(reactions: &[Reaction]) -> Vec<ReactionView> {
        reactions
            .iter()
            .map(|r| ReactionView { emoji: r.emoji.clone(), count: r.user_ids.len(), user_ids: r.user_ids.clone() })
            .collect()
    }
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct SystemView {
    pub action: String,
    pub actor_id: UserId,
    pub user_ids: Vec<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl From<&SystemEvent> for SystemView {
    fn from(s: &SystemEvent) -> Self {
        Self { action: s.action.clone(), actor_id: s.actor_id, user_ids: s.user_ids.clone(), role: s.role.clone() }
    }
}

/// What a call message records (kind `call`); its sender is the caller.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct CallView {
    /// `voice` or `video`.
    pub media: &'static str,
    /// `answered`, `missed`, `declined` or `busy`.
    pub outcome: &'static str,
    /// From the first answer to the end; 0 unless answered.
    pub duration_secs: u64,
    /// Everyone who was in the call, caller first.
    pub participants: Vec<UserId>,
}

impl From<&CallRecord> for CallView {
    fn from(c: &CallRecord) -> Self {
        Self {
            media: c.media.as_str(),
            outcome: c.outcome.as_str(),
            duration_secs: c.duration_secs,
            participants: c.participants.clone(),
        }
    }
}

/// A file sent as a message: everything a client needs to render it without another request.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: AttachmentId,
    /// `image`, `video`, `audio`, `voice` or `file`.
    pub kind: &'static str,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Download link (members only); `null` once the file expired.
    pub url: Option<String>,
    pub thumbnail_url: Option<String>,
    /// Removed by the server's retention policy.
    pub expired: bool,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        let live = !a.expired;
        Self {
            id: a.id,
            kind: a.kind.as_str(),
            name: a.file_name.clone(),
            size: a.size,
            content_type: a.content_type.clone(),
            width: a.width,
            height: a.height,
            url: live.then(|| format!("/api/chat/attachments/{}/", a.id)),
            thumbnail_url: (live && a.has_thumbnail).then(|| format!("/api/chat/attachments/{}/thumbnail/", a.id)),
            expired: a.expired,
        }
    }
}

/// One line for a conversation list: the text, or what the attachment is.
pub fn preview(m: &Message) -> String {
    if m.deleted_at.is_some() {
        return "Message deleted".to_owned();
    }
    let Some(a) = &m.attachment else { return m.content.chars().take(120).collect() };
    let what = match a.kind {
        AttachmentKind::Image => "📷 Photo".to_owned(),
        AttachmentKind::Video => "🎥 Video".to_owned(),
        AttachmentKind::Audio => format!("🎵 {}", a.file_name),
        AttachmentKind::Voice => "🎤 Voice message".to_owned(),
        AttachmentKind::File => format!("📎 {}", a.file_name),
    };
    if m.content.is_empty() { what } else { format!("{what}: {}", m.content.chars().take(100).collect::<String>()) }
}

/// The parts of a message beyond seed 001's fields, shared by REST and `chat_message` frames.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct MessageDetails {
    /// `text`; `image`, `video`, `audio`, `voice` or `file` for an attachment (the content is
    /// its caption); `system` for messages the server writes (member added, room renamed...);
    /// `call` for a call's record (see `call`).
    pub kind: &'static str,
    pub attachment: Option<AttachmentView>,
    /// A one-line summary for lists: "📷 Photo", "📎 report.pdf", or the text.
    pub preview: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallView>,
    pub reply_to: Option<ReplyView>,
    pub client_id: Option<String>,
    pub edited_at: Option<Timestamp>,
    /// A deleted message keeps its place with empty content.
    pub deleted: bool,
    pub forwarded: bool,
    pub reactions: Vec<ReactionView>,
}

impl From<&Message> for MessageDetails {
    fn from(m: &Message) -> Self {
        let (kind, system) = match (&m.kind, &m.attachment) {
            (MessageKind::System(s), _) => ("system", Some(SystemView::from(s))),
            (MessageKind::Call(_), _) => ("call", None),
            (MessageKind::Text, Some(a)) => (a.kind.as_str(), None),
            (MessageKind::Text, None) => ("text", None),
        };
        let call = match &m.kind {
            MessageKind::Call(c) => Some(CallView::from(c)),
            _ => None,
        };
        Self {
            kind,
            attachment: m.attachment.as_ref().map(AttachmentView::from),
            preview: preview(m),
            system,
            call,
            reply_to: m.reply_to.as_ref().map(ReplyView::from),
            client_id: m.client_id.clone(),
            edited_at: m.edited_at,
            deleted: m.deleted_at.is_some(),
            forwarded: m.forwarded,
            reactions: ReactionView::list(&m.reactions),
        }
    }
}

/// A message over REST. Its WebSocket twin is [`crate::ServerFrame::ChatMessage`].
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Per-conversation message number, gap-free; also the `before` cursor of history pages.
    pub seq: Seq,
    pub sender_id: UserId,
    pub sender_name: String,
    pub sender_avatar: Option<String>,
    pub content: String,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub details: MessageDetails,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            sender_name: m.sender_name.clone(),
            sender_avatar: m.sender_avatar.clone(),
            content: m.content.clone(),
            created_at: m.created_at,
            details: MessageDetails::from(m),
        }
    }
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ContextView {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub title: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ConversationView {
    pub id: ConversationId,
    /// `direct` or `room`.
    pub kind: &'static str,
    pub title: Option<String>,
    pub avatar: Option<String>,
    /// What the conversation is about on the host platform, e.g. `{"type": "job", "id": "42"}`.
    pub context: Option<ContextView>,
    pub archived: bool,
    pub archived_at: Option<Timestamp>,
    /// Current members, with roles and receipt positions.
    pub members: Vec<MemberView>,
    /// The caller's role, and whether they are still a member (former members keep their history).
    pub role: &'static str,
    pub is_member: bool,
    /// The caller muted this conversation's message notifications.
    pub muted: bool,
    pub last_message: Option<MessageView>,
    pub unread_count: i64,
    /// The caller's read position (a message `seq`).
    pub last_read_seq: Seq,
    pub last_message_seq: Seq,
    /// The newest event-log position: a fresh resume cursor for this conversation.
    pub last_event_seq: Seq,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    /// Disappearing messages: messages older than this many seconds are erased; `null` when
    /// only the server's retention applies (docs/privacy.md).
    pub retention_secs: Option<i64>,
    /// Under a legal hold: nothing in it is erased, by retention or by an account's erasure.
    pub legal_hold: bool,
}

impl From<&ConversationOverview> for ConversationView {
    fn from(o: &ConversationOverview) -> Self {
        let c = &o.conversation;
        let visible = o.membership.message_cutoff();
        let event_visible = o.membership.event_cutoff();
        Self {
            id: c.id,
            kind: c.kind.as_str(),
            title: c.title.clone(),
            avatar: c.avatar.clone(),
            context: c.context.as_ref().map(|x| ContextView {
                kind: x.kind.clone(),
                id: x.external_id.clone(),
                title: x.title.clone(),
            }),
            archived: c.archived_at.is_some(),
            archived_at: c.archived_at,
            // A former member sees the conversation as it was, not who is in it now.
            members: if o.membership.active { o.members.iter().map(MemberView::from).collect() } else { Vec::new() },
            role: o.membership.role.as_str(),
            is_member: o.membership.active,
            muted: o.membership.muted,
            last_message: o.last_message.as_ref().map(MessageView::from),
            unread_count: o.unread_count(),
            last_read_seq: o.last_read_seq,
            last_message_seq: visible.map_or(c.last_message_seq, |v| v.min(c.last_message_seq)),
            last_event_seq: event_visible.map_or(c.last_event_seq, |v| v.min(c.last_event_seq)),
            created_at: c.created_at,
            last_activity_at: match (&o.last_message, o.membership.active) {
                (Some(last), false) => last.created_at,
                _ => c.last_activity_at,
            },
            retention_secs: c.retention_secs,
            legal_hold: c.legal_hold,
        }
    }
}

/// A notification as its owner sees it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct NotificationView {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub connection_id: Option<i64>,
    pub count: i64,
    pub preview: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub is_read: bool,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind.as_str(),
            conversation_id: n.conversation_id,
            message_id: n.message_id,
            actor_id: n.actor_id,
            actor_name: n.actor_name.clone(),
            connection_id: n.contact_id,
            count: n.count,
            preview: n.preview.clone(),
            created_at: n.created_at,
            updated_at: n.updated_at,
            is_read: n.read,
        }
    }
}

/// A message a search found: the message as history shows it, and an excerpt around the matches.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct MessageHitView {
    pub conversation_id: ConversationId,
    pub message: MessageView,
    /// Safe to insert as HTML: all text escaped, each match wrapped in `<mark>`…`</mark>`.
    pub highlight: String,
}

impl From<&MessageHit> for MessageHitView {
    fn from(hit: &MessageHit) -> Self {
        Self {
            conversation_id: hit.message.conversation_id,
            message: MessageView::from(&hit.message),
            highlight: highlight_html(hit),
        }
    }
}

/// A user's presence as their contacts see it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct StatusView {
    pub user_id: UserId,
    pub is_online: bool,
    /// `null` while hidden by the user, or if never seen.
    pub last_seen: Option<Timestamp>,
}

/// `GET /api/chat/presence/`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct StatusList {
    pub results: Vec<StatusView>,
}

/// A report of a message, as server admins see it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: i64,
    pub message_id: MessageId,
    pub reporter_id: UserId,
    pub reason: String,
    pub created_at: Timestamp,
}

/// `GET /api/admin/reports/`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ReportList {
    pub results: Vec<ReportView>,
}

/// Escapes the excerpt, then turns the store's match markers into `<mark>` tags. A message
/// whose own text contains a marker character gets no marks at all, so no sender can open or
/// close a tag in someone else's client.
pub fn highlight_html(hit: &MessageHit) -> String {
    let marks = hit.markers_are_trustworthy();
    let mut html = String::with_capacity(hit.snippet.len() + 32);
    for c in hit.snippet.chars() {
        match c {
            MessageHit::MATCH_START if marks => html.push_str("<mark>"),
            MessageHit::MATCH_END if marks => html.push_str("</mark>"),
            MessageHit::MATCH_START | MessageHit::MATCH_END => {}
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            other => html.push(other),
        }
    }
    html
}
