//! WebSocket frames: what clients send and what the server pushes. Seed 001's names and fields
//! are kept exactly, so its JavaScript client works unchanged; parlor's additions are extra fields
//! (`conversation_id`, `seq`, `client_id`...) and extra frame types such clients ignore.

use std::collections::BTreeMap;

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::calls::{CallFrame, CallInviteFrame, CallPeer, CallSignalFrame, SignalData};
use crate::frame_type::{FrameType, WellFormed};
use crate::views::{MessageDetails, NotificationView, ReactionView};

/// Bumped on any incompatible change; sent in `connection_established`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A frame from a client. Parse with [`ClientFrame::parse`], which tells malformed JSON, unknown
/// types and wrong fields apart.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    ChatMessage(SendFrame),
    TypingIndicator(TypingFrame),
    MessageRead(ReadFrame),
    Resume(ResumeFrame),
    EditMessage(EditFrame),
    DeleteMessage(DeleteFrame),
    React(ReactFrame),
    Focus(FocusFrame),
    CallInvite(CallInviteFrame),
    CallRinging(CallFrame),
    CallAccept(CallFrame),
    CallDecline(CallFrame),
    CallSignal(CallSignalFrame),
    CallEnd(CallFrame),
    Ping,
}

/// What the client shows now: no notifications are made for that conversation while it does.
/// `null` when the user looks elsewhere (another page, the tab hidden).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FocusFrame {
    pub conversation_id: Option<ConversationId>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EditFrame {
    pub message_id: MessageId,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeleteFrame {
    pub message_id: MessageId,
}

/// Toggles: reacting again with the same emoji removes the reaction.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReactFrame {
    pub message_id: MessageId,
    pub emoji: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SendFrame {
    /// Required on `/ws/`; on `/ws/chat/{id}/` it defaults to that conversation.
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    pub content: String,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub reply_to: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TypingFrame {
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    pub is_typing: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReadFrame {
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    /// Seed 001's form. Absent (or empty) means "everything so far".
    #[serde(default)]
    pub message_ids: Vec<MessageId>,
}

/// "The last event I saw in conversation C was seq N", for any number of conversations. The
/// server replays everything after each cursor, in order, then sends `resumed`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResumeFrame {
    /// Conversation id to cursor. A conversation named twice (`"7"` and `"-0"`... or `"7"`
    /// twice) is refused rather than resolved by key order.
    #[serde(deserialize_with = "crate::frame_type::unique_keys")]
    pub conversations: BTreeMap<i64, i64>,
}

/// Why a client frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
}

impl ClientFrame {
    /// The frame's meaning depends only on its JSON: the text is read by typed visitors, never
    /// through `serde_json::Value` (see `frame_type`).
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        serde_json::from_str::<WellFormed>(text).map_err(|e| FrameError {
            code: ErrorCode::InvalidJson,
            message: format!("frame is not valid JSON: {e}"),
        })?;
        let kind = match FrameType::read(text) {
            Ok(Some(FrameType::Named(kind))) => kind,
            Ok(Some(FrameType::NotAString)) => return Err(invalid("field `type` must be a string")),
            Ok(Some(FrameType::Missing)) => return Err(invalid("missing field `type`")),
            Ok(None) => return Err(invalid("frame must be a JSON object")),
            Err(e) => return Err(invalid(&e.to_string())),
        };
        match kind.as_str() {
            "chat_message" => fields(text).map(ClientFrame::ChatMessage),
            "typing_indicator" => fields(text).map(ClientFrame::TypingIndicator),
            "message_read" => fields(text).map(ClientFrame::MessageRead),
            "resume" => fields(text).map(ClientFrame::Resume),
            "edit_message" => fields(text).map(ClientFrame::EditMessage),
            "delete_message" => fields(text).map(ClientFrame::DeleteMessage),
            "react" => fields(text).map(ClientFrame::React),
            "focus" => fields(text).map(ClientFrame::Focus),
            "call_invite" => fields(text).map(ClientFrame::CallInvite),
            "call_ringing" => fields(text).map(ClientFrame::CallRinging),
            "call_accept" => fields(text).map(ClientFrame::CallAccept),
            "call_decline" => fields(text).map(ClientFrame::CallDecline),
            "call_signal" => fields(text).map(ClientFrame::CallSignal),
            "call_end" => fields(text).map(ClientFrame::CallEnd),
            "ping" => Ok(ClientFrame::Ping),
            other => Err(FrameError {
                code: ErrorCode::UnknownEvent,
                message: format!(
                    "unknown event type `{}`; expected chat_message, typing_indicator, message_read, edit_message, \
                     delete_message, react, focus, resume, ping or a call_* frame",
                    other.chars().take(64).collect::<String>()
                ),
            }),
        }
    }
}

/// The frame's own fields, read from the same text (the `type` key is one they ignore).
fn fields<T: DeserializeOwned>(text: &str) -> Result<T, FrameError> {
    serde_json::from_str(text).map_err(|e| invalid(&e.to_string()))
}

fn invalid(message: &str) -> FrameError {
    FrameError { code: ErrorCode::InvalidBody, message: message.to_owned() }
}

/// A frame the server sends. Serialized once per event and fanned out as bytes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    ConnectionEstablished {
        message: &'static str,
        protocol: u32,
        user_id: UserId,
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<ConversationId>,
    },
    ChatMessage {
        conversation_id: ConversationId,
        /// Event-log position: the resume cursor.
        seq: Seq,
        message_id: MessageId,
        /// The message's own gap-free number (the REST `seq`).
        message_seq: Seq,
        sender_id: UserId,
        sender_name: String,
        sender_avatar: Option<String>,
        content: String,
        created_at: Timestamp,
        #[serde(flatten)]
        details: Box<MessageDetails>,
    },
    MessageEdited {
        conversation_id: ConversationId,
        seq: Seq,
        message_id: MessageId,
        message_seq: Seq,
        content: String,
        edited_at: Option<Timestamp>,
    },
    /// The message is now a tombstone: show it as deleted, keep its place.
    MessageDeleted {
        conversation_id: ConversationId,
        seq: Seq,
        message_id: MessageId,
        message_seq: Seq,
    },
    ReactionUpdated {
        conversation_id: ConversationId,
        seq: Seq,
        message_id: MessageId,
        user_id: UserId,
        emoji: String,
        added: bool,
        /// The message's reactions now.
        reactions: Vec<ReactionView>,
    },
    /// `user_id`'s devices have received messages up to `up_to_seq` (a message seq).
    MessagesDelivered {
        conversation_id: ConversationId,
        seq: Seq,
        user_id: UserId,
        up_to_seq: Seq,
    },
    ConversationUpdated {
        conversation_id: ConversationId,
        seq: Seq,
        title: Option<String>,
        avatar: Option<String>,
        archived: bool,
    },
    /// To the sending connection only, once the message is durably stored.
    Ack {
        conversation_id: ConversationId,
        client_id: Option<String>,
        message_id: MessageId,
        message_seq: Seq,
        seq: Seq,
        created_at: Timestamp,
        /// True when this `client_id` had already been stored: the retry stored nothing new.
        duplicate: bool,
    },
    TypingIndicator {
        conversation_id: ConversationId,
        user_id: UserId,
        user_name: String,
        is_typing: bool,
    },
    MessagesRead {
        conversation_id: ConversationId,
        seq: Seq,
        user_id: UserId,
        message_ids: Vec<MessageId>,
        /// The message `seq` up to which `user_id` has now read.
        up_to_seq: Seq,
        read_at: Timestamp,
    },
    /// The client is too far behind in this conversation to replay: reload it over REST, then
    /// carry on from `latest_seq`.
    ResyncRequired {
        conversation_id: ConversationId,
        latest_seq: Seq,
    },
    /// Replay after `resume` is complete; live events follow.
    Resumed {
        replayed: usize,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong,
    /// A contact came online or went offline (seed 004's shape, plus `last_seen`).
    UserStatusChange {
        user_id: UserId,
        is_online: bool,
        /// When they were last seen; absent while online or when they hide it.
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seen: Option<Timestamp>,
    },
    /// A new (or updated: a folded message count) notification, and the unread total.
    Notification {
        notification: NotificationView,
        unread_count: i64,
    },
    /// To the calling device: the call exists and is ringing; `peer` is this device in it.
    CallInvited {
        call_id: String,
        conversation_id: ConversationId,
        media: &'static str,
        peer: String,
    },
    /// To every device of each callee: ring (until `call_ended` or `call_accepted` elsewhere).
    CallIncoming {
        call_id: String,
        conversation_id: ConversationId,
        media: &'static str,
        caller_id: UserId,
        caller_name: String,
    },
    /// To the call's devices: a device of `user_id` is ringing.
    CallRinging {
        call_id: String,
        user_id: UserId,
    },
    /// To every device in the call, the new one included: `peer` joined. Those already in
    /// send it an offer; `participants` is everyone in the call now.
    CallAccepted {
        call_id: String,
        conversation_id: ConversationId,
        user_id: UserId,
        peer: String,
        participants: Vec<CallPeer>,
    },
    /// To the call's devices: `user_id` declined (the call goes on while others may answer).
    CallDeclined {
        call_id: String,
        user_id: UserId,
    },
    /// Relayed from `peer` `from` (of `from_user`) to this device only.
    CallSignal {
        call_id: String,
        from: String,
        from_user: UserId,
        data: SignalData,
    },
    /// To the call's devices: `peer` left a call that goes on.
    CallLeft {
        call_id: String,
        user_id: UserId,
        peer: String,
    },
    /// The call is over for this device: `hangup`, `missed`, `declined`, `busy`, `cancelled`,
    /// `caller_gone` (the calling device's socket closed), or `answered_elsewhere` (another
    /// device of this user took it).
    CallEnded {
        call_id: String,
        conversation_id: ConversationId,
        reason: &'static str,
    },
}

impl ServerFrame {
    pub fn from_event(event: &ConversationEvent) -> ServerFrame {
        match &event.kind {
            EventKind::MessageCreated(m) => ServerFrame::ChatMessage {
                conversation_id: m.conversation_id,
                seq: event.seq,
                message_id: m.id,
                message_seq: m.seq,
                sender_id: m.sender_id,
                sender_name: m.sender_name.clone(),
                sender_avatar: m.sender_avatar.clone(),
                content: m.content.clone(),
                created_at: m.created_at,
                details: Box::new(MessageDetails::from(m)),
            },
            EventKind::MessageEdited(m) => ServerFrame::MessageEdited {
                conversation_id: m.conversation_id,
                seq: event.seq,
                message_id: m.id,
                message_seq: m.seq,
                content: m.content.clone(),
                edited_at: m.edited_at,
            },
            EventKind::MessageDeleted { message_id, message_seq } => ServerFrame::MessageDeleted {
                conversation_id: event.conversation_id,
                seq: event.seq,
                message_id: *message_id,
                message_seq: *message_seq,
            },
            EventKind::ReactionChanged { message_id, user_id, emoji, added, reactions } => {
                ServerFrame::ReactionUpdated {
                    conversation_id: event.conversation_id,
                    seq: event.seq,
                    message_id: *message_id,
                    user_id: *user_id,
                    emoji: emoji.clone(),
                    added: *added,
                    reactions: ReactionView::list(reactions),
                }
            }
            EventKind::MessagesDelivered { user_id, up_to } => ServerFrame::MessagesDelivered {
                conversation_id: event.conversation_id,
                seq: event.seq,
                user_id: *user_id,
                up_to_seq: *up_to,
            },
            EventKind::ConversationUpdated { title, avatar, archived } => ServerFrame::ConversationUpdated {
                conversation_id: event.conversation_id,
                seq: event.seq,
                title: title.clone(),
                avatar: avatar.clone(),
                archived: *archived,
            },
            EventKind::MessagesRead { user_id, up_to, message_ids } => ServerFrame::MessagesRead {
                conversation_id: event.conversation_id,
                seq: event.seq,
                user_id: *user_id,
                message_ids: message_ids.clone(),
                up_to_seq: *up_to,
                read_at: event.at,
            },
        }
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error { code, message: message.into() }
    }

    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: no maps with non-string keys, no custom errors.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"type":"error","code":"internal"}"#))
    }
}
