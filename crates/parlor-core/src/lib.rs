//! Domain types and rules of parlor: identifiers, users, conversations, messages and read state.
//!
//! **Invariant:** this crate does no IO and knows nothing of HTTP, WebSockets or SQL. Values that
//! come from outside are parsed into the types here at the edge (`MessageBody::parse`, ...), so the
//! services and the store never see raw, unchecked strings.

mod attachment;
mod call;
pub mod chain;
mod contact;
mod conversation;
mod email;
mod event;
mod ids;
mod invisible;
mod message;
mod notification;
mod notification_settings;
mod report;
mod room;
mod search;
mod time;
mod user;
mod validation;
mod webhook;

pub use attachment::{Attachment, AttachmentId, AttachmentKind, NewAttachment, StoredAttachment, sanitize_file_name};
pub use call::{CallMedia, CallOutcome, CallRecord};
pub use contact::{Contact, ContactStatus};
pub use conversation::{Conversation, ConversationKind, ConversationOverview, DirectPair, Member};
pub use email::EmailAddress;
pub use event::{ConversationEvent, EventKind};
pub use ids::{ConversationId, MessageId, Seq, SessionId, UserId};
pub use invisible::{first_invisible, is_invisible, strip_invisible};
pub use message::{
    ClientId, Emoji, Message, MessageBody, MessageKind, NewMessage, Reaction, ReplyPreview, SystemEvent,
};
pub use notification::{NewNotification, Notification, NotificationKind};
pub use notification_settings::{EmailDelay, MAX_EMAIL_DELAY_MINUTES, NotificationSettings, QuietHours};
pub use report::Report;
pub use room::{Context, Membership, Role, RoomTitle};
pub use search::{AttachmentFilter, MessageHit, SearchCursor, SearchQuery};
pub use time::Timestamp;
pub use user::{AvatarUrl, DisplayName, ExternalId, NewUser, Password, ProfileUpdate, User, Username};
pub use validation::ValidationError;
pub use webhook::{Delivery, EventType, OutboxId, Webhook, WebhookId, WebhookSecret, WebhookUrl};
