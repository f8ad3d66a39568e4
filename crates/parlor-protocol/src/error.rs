//! Stable error codes: clients branch on `code`, people read `message`.

use serde::{Deserialize, Serialize};

/// Every error a client can receive, over HTTP (`{"code", "message"}` with a 4xx/5xx status) or
/// the WebSocket (`{"type": "error", "code", "message"}`). Codes are never renamed.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or frame is not JSON.
    InvalidJson,
    /// JSON, but a field is missing or has the wrong type.
    InvalidBody,
    /// Well-formed, but a value breaks a rule (empty message, short password...).
    ValidationFailed,
    /// No credentials, or credentials that are expired, tampered with or of the wrong kind.
    Unauthorized,
    /// Username or password wrong.
    InvalidCredentials,
    /// Missing, or not yours: the two are never told apart.
    NotFound,
    /// The username is taken.
    UsernameTaken,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// A WebSocket frame is larger than the server accepts.
    FrameTooLarge,
    /// A WebSocket frame's `type` is not one the server knows.
    UnknownEvent,
    /// A frame on the unified socket must say which conversation it is for.
    ConversationRequired,
    /// Allowed to see it, not to do this (e.g. edit someone else's message, remove an admin).
    Forbidden,
    /// The conversation is archived: readable, but nothing can be posted or changed.
    ConversationArchived,
    /// A room must keep an owner: hand ownership over before leaving or stepping down.
    LastOwner,
    /// Only rooms have titles, avatars and changing members.
    NotARoom,
    /// This server does not allow editing or deleting messages.
    EditingDisabled,
    /// This server requires an accepted connection before a direct conversation.
    ConnectionRequired,
    /// A connection (or request) between these users already exists.
    ConnectionExists,
    /// The account was disabled by a server admin.
    AccountDisabled,
    /// One of the two users blocked the other: no direct messages between them.
    Blocked,
    /// The message was already reported by this user.
    AlreadyReported,
    /// The file's type (detected from its bytes) is not accepted.
    UnsupportedMediaType,
    /// The image declares more pixels than the server decodes.
    ImageTooLarge,
    /// The client cannot keep up with its events; it should reconnect and resume.
    SlowConsumer,
    /// Too many requests of one kind (sends, uploads, logins...); retry after the time given
    /// (`Retry-After` over HTTP, "retry in N s" in the message).
    RateLimited,
    /// The server is shutting down or overloaded, or its database is locked; retry shortly.
    Unavailable,
    /// This server cannot do that at all (e.g. a backup on a store without one).
    NotSupported,
    /// The server's disk is full: nothing was stored; retry once an operator has made room.
    InsufficientStorage,
    /// Something broke on the server; the log has the details.
    Internal,
    /// The call would have more participants than `calls.max_participants` (calls are a full
    /// mesh; larger ones need an SFU), or this user is already in a call.
    CallUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnknownEvent => "unknown_event",
            ErrorCode::ConversationRequired => "conversation_required",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::ConversationArchived => "conversation_archived",
            ErrorCode::LastOwner => "last_owner",
            ErrorCode::NotARoom => "not_a_room",
            ErrorCode::EditingDisabled => "editing_disabled",
            ErrorCode::ConnectionRequired => "connection_required",
            ErrorCode::ConnectionExists => "connection_exists",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::Blocked => "blocked",
            ErrorCode::AlreadyReported => "already_reported",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ImageTooLarge => "image_too_large",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::NotSupported => "not_supported",
            ErrorCode::InsufficientStorage => "insufficient_storage",
            ErrorCode::Internal => "internal",
            ErrorCode::CallUnavailable => "call_unavailable",
        }
    }
}

/// The JSON body of every HTTP error response.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}
