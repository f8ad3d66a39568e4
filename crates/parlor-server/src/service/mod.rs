//! Domain services: what parlor does, independent of how a request arrived. The HTTP API and the
//! WebSocket gateway both call these, so a message sent either way runs the same code and
//! produces the same event.
//!
//! **Invariant:** handlers and the gateway call services, never the store; services publish every
//! logged event to the hub after it is stored.
//!
//! Each service owns the state it uses and takes the services it asks in its constructor, so the
//! dependencies form a graph without cycles (built in this order in `Server::bind`):
//!
//! - [`Reach`] (`reach.rs`): the write check (blocks, the DM policy); asks no other service.
//! - [`DeliveryReceipts`] (`delivery_receipts.rs`): delivery positions this node gathered,
//!   written every tick; the receipt policy. Asks `Reach`.
//! - [`Conversations`] (`conversations/`, with `former.rs`): opening, listing and reading
//!   conversations and single messages, who may read (`reader`) and who is in one
//!   (`ensure_member`), a former member's view. Asks `Reach`, `DeliveryReceipts`.
//! - [`Notifications`] (`notifications.rs`, `notification_hook.rs`): made after a message,
//!   stored, pushed, handed to `crate::away` and the webhook outbox. Asks `Reach`,
//!   `Conversations`.
//! - [`Attachments`] (`attachments.rs`): uploads, thumbnails, downloads, files of deleted
//!   messages. Asks `Conversations`, `Reach`, `Notifications`.
//! - [`Messages`] (`messages/`, with `lifecycle.rs`): send, history, forward, typing, edit, delete,
//!   react, a call's message. Asks `Conversations`, `Reach`, `Notifications`,
//!   `DeliveryReceipts`, `Attachments`.
//! - [`Rooms`] (`rooms.rs`): rooms, roles, archive, context-linked conversations. Asks
//!   `Conversations`, `Reach`, `Notifications`.
//! - [`Platform`] (`platform.rs`): the server API's platform calls. Asks `Rooms`,
//!   `Notifications`.
//! - [`Contacts`] asks `Reach`, `Notifications`; [`Receipts`] (`receipts.rs`: read positions,
//!   who read what) asks `Conversations`, `DeliveryReceipts`, `Notifications`, `Reach`;
//!   [`Moderation`] asks `Conversations`, `Attachments`; [`Search`] asks `Conversations`;
//!   [`Privacy`] (`privacy/`) asks `Conversations`, `Attachments`, `Notifications`.
//!   [`Directory`] and [`Operator`] (`operator.rs`) ask none.
//! - Outside this module, `crate::calls::Calls` asks `Conversations`, `Messages` and `Reach`.
//!
//! Nothing asks `Rooms` or the services after it but the edge, except `Platform`, which asks
//! `Rooms`; besides the edge, only `Calls` asks `Messages`.
//! `Accounts`, `Presence`, `Audit` and `Webhooks` stand alone.

mod accounts;
mod attachments;
mod audit;
mod contacts;
mod conversations;
mod delivery_receipts;
mod directory;
mod messages;
mod moderation;
mod notification_hook;
mod notifications;
mod operator;
mod platform;
mod presence;
mod privacy;
mod reach;
mod receipts;
mod rooms;
mod search;
mod webhooks;

pub use accounts::{Accounts, Session};
pub use attachments::{Attachments, ReceivedFile};
pub use audit::{Actor, Audit, AuditQuery, AuditSettings, Record};
pub use contacts::{Contacts, EndContact};
pub use conversations::Conversations;
pub use delivery_receipts::DeliveryReceipts;
pub use directory::Directory;
pub use messages::{Messages, SendInput, Submitted};
pub use moderation::Moderation;
pub use notifications::Notifications;
pub use operator::Operator;
pub use platform::Platform;
pub use presence::Presence;
pub use privacy::{ErasureSetting, Privacy, PrivacySettings, RetentionSettings};
pub use reach::Reach;
pub use receipts::Receipts;
pub use rooms::Rooms;
pub use search::{MessageSearchInput, Search};
pub use webhooks::Webhooks;
