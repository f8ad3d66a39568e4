//! The seeds' socket frames both ways. In: seed 002's `message`, `typing` and `read_receipt`
//! (addressed by `receiver_id`, or by `conversation_id` as seed 003's pages do), seed 004's
//! `send_message`, `mark_as_read`, `typing_start` and `typing_stop`. Out: parlor's events as
//! `message`, `typing`, `read_receipt`, `message_edited`, `message_deleted` and
//! `user_status` (002, 003), or `message_received` with a nested `sender`,
//! `messages_read`, `typing_indicator` and `user_status_change` (004).

use std::sync::Arc;

use parlor_core::{ConversationId, MessageId, User, UserId};
use parlor_store::ReadUpTo;
use serde::{Deserialize, Serialize};

use super::Compat;
use super::ids::{Kind, RawId, SeedId, UserRef};
use super::seed002::{mark_messages, with_receiver};
use super::shared::{self, Names};
use super::views::SeedMessage;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{Bucket, Key};
use crate::service::SendInput;
use crate::state::AppState;

#[derive(Clone, Copy)]
pub enum Dialect {
    /// `/ws/chat/`: seeds 002 and 003, every conversation of the user.
    Unified,
    /// `/ws/chat/{uuid}/`: seed 004, one conversation.
    Job(ConversationId),
    /// `/ws/presence/`: seed 004, online and offline changes only.
    Presence,
}

/// A seed client's frame. Unknown types are answered with an `error` frame.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Incoming {
    Message(Send),
    ChatMessage(Send),
    SendMessage(Send),
    Typing {
        #[serde(default = "yes")]
        is_typing: bool,
        #[serde(flatten)]
        to: Address,
    },
    TypingStart,
    TypingStop,
    ReadReceipt(Read),
    MarkAsRead(Read),
    Ping,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
struct Address {
    #[serde(default)]
    receiver_id: Option<RawId>,
    #[serde(default)]
    conversation_id: Option<RawId>,
}

#[derive(Deserialize)]
struct Send {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reply_to_id: Option<RawId>,
    #[serde(flatten)]
    to: Address,
}

#[derive(Deserialize)]
struct Read {
    #[serde(default)]
    message_ids: Vec<RawId>,
    #[serde(flatten)]
    to: Address,
}

/// The parts of parlor's events the seeds' frames need.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    ChatMessage {
        conversation_id: i64,
        message_id: i64,
        message_seq: i64,
    },
    MessageEdited {
        conversation_id: i64,
        message_id: i64,
    },
    MessageDeleted {
        conversation_id: i64,
        message_id: i64,
    },
    TypingIndicator {
        conversation_id: i64,
        user_id: i64,
        user_name: String,
        is_typing: bool,
    },
    MessagesRead {
        conversation_id: i64,
        user_id: i64,
        message_ids: Vec<i64>,
    },
    UserStatusChange {
        user_id: i64,
        is_online: bool,
        #[serde(default)]
        last_seen: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// A message frame: the type, then the message's fields (002, 003) or the message nested (004).
#[derive(Serialize)]
struct MessageFrame {
    r#type: &'static str,
    #[serde(flatten)]
    message: SeedMessage,
}

#[derive(Serialize)]
struct Received {
    r#type: &'static str,
    message: SeedMessage,
}

pub struct Session {
    state: AppState,
    compat: Arc<Compat>,
    user: User,
    dialect: Dialect,
    names: Names,
}

impl Session {
    pub fn new(state: AppState, compat: Arc<Compat>, user: User, dialect: Dialect) -> Self {
        Self { state, compat, user, dialect, names: Names::default() }
    }

    pub fn error(&self, message: &str) -> String {
        serde_json::json!({"type": "error", "message": message}).to_string()
    }

    /// A client frame; what to send back (errors only: results arrive as events).
    pub async fn on_text(&mut self, text: &str) -> Vec<String> {
        let max = self.state.config.limits.max_frame_bytes;
        if text.len() > max {
            return vec![self.error(&format!("frame is {} bytes; the limit is {max}", text.len()))];
        }
        let frame: Incoming = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(e) => return vec![self.error(&format!("unreadable frame: {e}"))],
        };
        if matches!(self.dialect, Dialect::Presence) && !matches!(frame, Incoming::Ping) {
            return vec![self.error("the presence socket only sends status changes")];
        }
        if !matches!(frame, Incoming::Ping)
            && let Err(e) = self.state.rate_limits.check(Bucket::Sends, Key::User(self.user.id)).await
        {
            return vec![self.error(&e.message)];
        }
        let outcome = match frame {
            Incoming::Message(f) | Incoming::ChatMessage(f) | Incoming::SendMessage(f) => self.send(f).await,
            Incoming::Typing { is_typing, to } => self.typing(&to, is_typing).await,
            Incoming::TypingStart => self.typing(&Address::default(), true).await,
            Incoming::TypingStop => self.typing(&Address::default(), false).await,
            Incoming::ReadReceipt(f) | Incoming::MarkAsRead(f) => self.read(f).await,
            Incoming::Ping => return vec![serde_json::json!({"type": "pong"}).to_string()],
        };
        match outcome {
            Ok(()) => Vec::new(),
            Err(e) => vec![self.error(&e.message)],
        }
    }

    /// The conversation a frame is for: the socket's own (004), else `conversation_id`, else
    /// the direct conversation with `receiver_id`.
    async fn target(&self, to: &Address) -> ApiResult<ConversationId> {
        if let Dialect::Job(id) = self.dialect {
            return Ok(id);
        }
        if let Some(raw) = &to.conversation_id {
            return Ok(ConversationId(self.compat.parse_id(Kind::Conversation, &raw.text())?));
        }
        match &to.receiver_id {
            Some(raw) => with_receiver(&self.state, &self.compat, &self.user, &raw.text()).await,
            None => Err(ApiError::bad_request(
                parlor_protocol::ErrorCode::ConversationRequired,
                "say who it is for: `receiver_id` or `conversation_id`",
            )),
        }
    }

    async fn send(&mut self, f: Send) -> ApiResult<()> {
        let id = self.target(&f.to).await?;
        let reply_to = match f.reply_to_id {
            Some(raw) => Some(MessageId(self.compat.parse_id(Kind::Message, &raw.text())?)),
            None => None,
        };
        let content = f.message.or(f.content).unwrap_or_default();
        let input = SendInput { content, reply_to, client_id: None, forwarded: false };
        self.state.messages.send(&self.user, id, input).await.map(drop)
    }

    async fn typing(&mut self, to: &Address, is_typing: bool) -> ApiResult<()> {
        let id = self.target(to).await?;
        self.state.messages.typing(&self.user, id, is_typing).await
    }

    async fn read(&mut self, f: Read) -> ApiResult<()> {
        if !f.message_ids.is_empty() {
            return mark_messages(&self.state, &self.compat, &self.user, &f.message_ids).await;
        }
        let id = self.target(&f.to).await?;
        self.state.receipts.mark_read(self.user.id, id, ReadUpTo::Latest).await.map(drop)
    }

    /// One of parlor's events as this socket's frames (none when it is not for this socket).
    pub async fn on_event(&mut self, frame: &str) -> Vec<String> {
        let Ok(event) = serde_json::from_str::<Event>(frame) else { return Vec::new() };
        match (self.dialect, event) {
            (Dialect::Presence, Event::UserStatusChange { user_id, is_online, last_seen }) => {
                let user_id = self.names.of(&self.state, &self.compat, UserId(user_id)).await;
                vec![json(&StatusChange { r#type: "user_status_change", user_id, is_online, last_seen })]
            }
            (Dialect::Presence, _) => Vec::new(),
            (Dialect::Job(scope), event) if event_conversation(&event).is_some_and(|c| c != scope.0) => Vec::new(),
            (dialect, event @ (Event::ChatMessage { .. } | Event::MessageEdited { .. })) => {
                let (message_id, edited) = match event {
                    Event::ChatMessage { conversation_id, message_id, message_seq } => {
                        // The message reached this device: parlor's clients show it delivered.
                        let seq = parlor_core::Seq(message_seq);
                        self.state.delivery_receipts.note_delivered(self.user.id, ConversationId(conversation_id), seq);
                        (message_id, false)
                    }
                    Event::MessageEdited { message_id, .. } => (message_id, true),
                    _ => return Vec::new(),
                };
                let uuid = matches!(dialect, Dialect::Job(_));
                let Ok(message) = self.state.conversations.message(self.user.id, MessageId(message_id)).await else {
                    return Vec::new();
                };
                let Ok(seed) = shared::render_one(&self.state, &self.compat, uuid, &self.user, &message).await else {
                    return Vec::new();
                };
                match dialect {
                    Dialect::Job(_) => vec![json(&Received { r#type: "message_received", message: seed })],
                    _ if edited => vec![json(&MessageFrame { r#type: "message_edited", message: seed })],
                    _ => vec![json(&MessageFrame { r#type: "message", message: seed })],
                }
            }
            (dialect, Event::MessageDeleted { conversation_id, message_id }) => {
                let uuid = matches!(dialect, Dialect::Job(_));
                vec![json(&Deleted {
                    r#type: "message_deleted",
                    id: self.compat.id(uuid, Kind::Message, message_id),
                    conversation_id: self.compat.id(uuid, Kind::Conversation, conversation_id),
                })]
            }
            (dialect, Event::TypingIndicator { conversation_id, user_id, user_name, is_typing }) => {
                if user_id == self.user.id.0 {
                    return Vec::new();
                }
                let uuid = matches!(dialect, Dialect::Job(_));
                let kind = if uuid { "typing_indicator" } else { "typing" };
                let user_id = self.names.of(&self.state, &self.compat, UserId(user_id)).await;
                vec![json(&Typing {
                    r#type: kind,
                    conversation_id: self.compat.id(uuid, Kind::Conversation, conversation_id),
                    user_id,
                    username: user_name.clone(),
                    user_name,
                    is_typing,
                })]
            }
            (dialect, Event::MessagesRead { conversation_id, user_id, message_ids }) => {
                let uuid = matches!(dialect, Dialect::Job(_));
                let reader = self.names.of(&self.state, &self.compat, UserId(user_id)).await;
                let ids = message_ids.iter().map(|m| self.compat.id(uuid, Kind::Message, *m)).collect();
                let conversation_id = self.compat.id(uuid, Kind::Conversation, conversation_id);
                let kind = if uuid { "messages_read" } else { "read_receipt" };
                vec![json(&ReadFrame {
                    r#type: kind,
                    conversation_id,
                    user_id: reader.clone(),
                    reader_id: reader,
                    message_ids: ids,
                })]
            }
            (dialect, Event::UserStatusChange { user_id, is_online, last_seen }) => {
                let kind = if matches!(dialect, Dialect::Job(_)) { "user_status_change" } else { "user_status" };
                let user_id = self.names.of(&self.state, &self.compat, UserId(user_id)).await;
                vec![json(&StatusChange { r#type: kind, user_id, is_online, last_seen })]
            }
            (_, Event::Other) => Vec::new(),
        }
    }
}

fn event_conversation(event: &Event) -> Option<i64> {
    match event {
        Event::ChatMessage { conversation_id, .. }
        | Event::MessageEdited { conversation_id, .. }
        | Event::MessageDeleted { conversation_id, .. }
        | Event::TypingIndicator { conversation_id, .. }
        | Event::MessagesRead { conversation_id, .. } => Some(*conversation_id),
        Event::UserStatusChange { .. } | Event::Other => None,
    }
}

#[derive(Serialize)]
struct StatusChange {
    r#type: &'static str,
    user_id: UserRef,
    is_online: bool,
    last_seen: Option<String>,
}

#[derive(Serialize)]
struct Deleted {
    r#type: &'static str,
    id: SeedId,
    conversation_id: SeedId,
}

#[derive(Serialize)]
struct Typing {
    r#type: &'static str,
    conversation_id: SeedId,
    user_id: UserRef,
    username: String,
    user_name: String,
    is_typing: bool,
}

#[derive(Serialize)]
struct ReadFrame {
    r#type: &'static str,
    conversation_id: SeedId,
    user_id: UserRef,
    reader_id: UserRef,
    message_ids: Vec<SeedId>,
}

fn json<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}
