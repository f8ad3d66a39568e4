//! Request and response bodies of the HTTP API.

use parlor_core::{ConversationId, MessageId, Seq, UserId};
use serde::{Deserialize, Serialize};

use crate::{ConversationView, MessageHitView, MessageView, UserView};

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[serde(default, alias = "display_name")]
    pub name: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct RefreshRequest {
    pub refresh: String,
}

/// `POST /api/auth/ws-ticket`: a one-time ticket for `/ws/?ticket=`.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct WsTicketResponse {
    pub ticket: String,
    /// Seconds the ticket can be redeemed within.
    pub expires_in: u64,
}

/// Access and refresh tokens, named as djangorestframework-simplejwt names them.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct TokenResponse {
    pub access: String,
    pub refresh: String,
    pub token_type: &'static str,
    /// Seconds until `access` expires.
    pub expires_in: i64,
    pub user: UserView,
}

/// `PATCH /api/users/me`. A field left out stays as it is; `"avatar": null` clears the avatar.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ProfilePatch {
    #[serde(default, alias = "display_name")]
    pub name: Option<String>,
    #[serde(default, alias = "avatar_url", deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar: Option<Option<String>>,
    /// Hide when you were last seen from everyone else.
    #[serde(default)]
    pub hide_last_seen: Option<bool>,
    /// Where mail reaches you when you are away (standalone accounts; a platform's users get
    /// theirs from the platform). `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct UserList {
    pub results: Vec<UserView>,
}

/// The other person of a direct conversation: parlor's `user_id`, or (host-app mode) the host
/// platform's `external_id`, whose user parlor creates on first reference.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct CreateConversationRequest {
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub external_id: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ConversationList {
    pub results: Vec<ConversationView>,
}

/// `GET /api/chat/conversations/`: most recent activity first. Pass `next_cursor` back as
/// `after` for the next page.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ConversationPage {
    pub results: Vec<ConversationView>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct SendMessageRequest {
    pub content: String,
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Seed 001's `POST /api/chat/messages/`: the conversation travels in the body.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct SeedSendMessageRequest {
    #[serde(alias = "conversation_id")]
    pub conversation: ConversationId,
    #[serde(flatten)]
    pub message: SendMessageRequest,
}

/// Newest first. Pass `next_cursor` back as `before` for the next (older) page.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct MessagePage {
    pub results: Vec<MessageView>,
    pub next_cursor: Option<Seq>,
    pub has_more: bool,
}

/// `POST .../mark_read/`: with no body or `{}`, everything is read; otherwise up to the newest
/// of the named messages.
#[derive(utoipa::ToSchema, Debug, Default, Deserialize)]
pub struct MarkReadRequest {
    #[serde(default)]
    pub message_id: Option<MessageId>,
    #[serde(default)]
    pub message_ids: Option<Vec<MessageId>>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct MarkReadResponse {
    pub conversation_id: ConversationId,
    pub last_read_seq: Seq,
    pub unread_count: i64,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct UnreadCounts {
    pub total: i64,
    /// Only conversations with something unread.
    pub conversations: Vec<UnreadEntry>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct UnreadEntry {
    pub conversation_id: ConversationId,
    pub unread_count: i64,
}

/// `POST /api/chat/rooms/`: the caller becomes the owner.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct CreateRoomRequest {
    pub title: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// `PATCH /api/chat/conversations/{id}/`: rename or change a room's picture.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ConversationPatchRequest {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar: Option<Option<String>>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct AddMembersRequest {
    pub user_ids: Vec<UserId>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct SetRoleRequest {
    pub role: String,
}

/// `PUT /api/chat/conversations/by-context/{type}/{id}/`: the other participants (the caller is
/// always one) and an optional title for the context.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ContextConversationRequest {
    #[serde(default, alias = "user_ids")]
    pub members: Vec<UserId>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct EditMessageRequest {
    pub content: String,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ReactRequest {
    pub emoji: String,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ForwardRequest {
    #[serde(alias = "conversation")]
    pub conversation_id: ConversationId,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct ConnectionRequestBody {
    pub user_id: UserId,
}

/// A connection as one of its two users sees it.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ConnectionView {
    pub id: i64,
    /// `pending` or `accepted`.
    pub status: &'static str,
    /// `outgoing` when the caller asked, `incoming` when the other user did.
    pub direction: &'static str,
    pub user: UserView,
    pub created_at: parlor_core::Timestamp,
    /// Set when accepting created or found the direct conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ConnectionList {
    pub results: Vec<ConnectionView>,
}

/// Who has received and read one message: "seen by" for rooms, ticks for everyone.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct MessageReceipts {
    pub message_id: MessageId,
    pub message_seq: Seq,
    /// From the sender's side: `read` when every other member read it, else `delivered` when
    /// it reached every other member, else `sent`.
    pub status: &'static str,
    pub read_by: Vec<UserView>,
    pub delivered_to: Vec<UserView>,
    pub read_count: usize,
    pub delivered_count: usize,
    /// Members other than the sender.
    pub recipient_count: usize,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PositionView {
    pub user_id: UserId,
    pub last_read_seq: Seq,
    pub delivered_seq: Seq,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ConversationReceipts {
    pub conversation_id: ConversationId,
    pub members: Vec<PositionView>,
}

/// `GET /api/chat/search/messages/`: best match first within windows of the newest matches.
/// Pass `next_cursor` back as `cursor` for the next page (or `next_offset` as `offset`).
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct MessageSearchPage {
    pub results: Vec<MessageHitView>,
    /// The `offset` of the next page, when this one was asked for by offset and more follow.
    pub next_offset: Option<u32>,
    /// The `cursor` of the next page when more follow: opaque text.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// `GET /api/calls/ice-servers`: what to pass as `RTCPeerConnection`'s `iceServers`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct IceServers {
    pub ice_servers: Vec<IceServerView>,
    /// Seconds the TURN credentials stay valid: fetch again before a call after that.
    pub ttl_secs: u64,
}

/// One entry of `iceServers`: STUN URLs, or TURN URLs with credentials minted for the caller
/// (the TURN REST scheme: `username` is `"<unix expiry>:<user id>"`).
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct IceServerView {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}
