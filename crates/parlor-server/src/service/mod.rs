//! Domain services: what parlor does, independent of how a request arrived. The HTTP API and the
//! WebSocket gateway both call these, so a message sent either way runs the same code and
//! produces the same event.
//!
//! **Invariant:** handlers and the gateway call services, never the store; services publish every
//! logged event to the hub after it is stored.

mod accounts;
mod attachments;
mod audit;
mod calls;
mod chat;
mod contacts;
mod conversations;
mod directory;
mod former;
mod lifecycle;
mod messages;
mod moderation;
mod notification_hook;
mod notifications;
mod operator;
mod platform;
mod presence;
mod privacy;
mod reach;
mod read_state;
mod rooms;
mod search;
mod webhooks;

pub use accounts::{Accounts, Session};
pub use attachments::ReceivedFile;
pub use audit::{Actor, Audit, AuditQuery, AuditSettings, Record};
pub use chat::Chat;
pub use contacts::EndContact;
pub use messages::SendInput;
pub use presence::Presence;
pub use privacy::{ErasureSetting, Privacy, PrivacySettings, RetentionSettings};
pub use search::MessageSearchInput;
pub use webhooks::Webhooks;
