//! What parlor's two SQL backends share: every statement both dialects say alike, written
//! once here, and [`SqlStore`], the `Store` built on them for any [`Backend`].
//!
//! A backend (`parlor-store-sqlite`, `parlor-store-postgres`) keeps only what is its own: its
//! connections and batch writer, its locking and error codes, its full-text search, how it
//! numbers and prunes the webhook outbox, its migrations, and the few words its dialect says
//! differently (`GREATEST`, `ILIKE`: [`Backend`]'s constants).
//!
//! A new statement goes in the module of its concern (`users.rs`, `rooms.rs`...) as an
//! `async fn` generic over `B: Backend` taking `&mut Conn<'_, B>`, written with `$1, $2`
//! placeholders (SQLite reads them too); the `Store` method that runs it goes in `store.rs`,
//! in a `read!` or `write!`. Only a statement the dialects cannot say alike becomes a
//! [`Backend`] method.

mod attachments;
mod audit;
mod backend;
pub mod chain;
mod contacts;
mod conversations;
mod driver;
mod email;
mod erasure;
pub mod events;
mod exports;
mod former;
mod lifecycle;
pub mod messages;
mod moderation;
mod notification_settings;
mod notifications;
pub mod queue;
pub mod reactions;
pub mod read_state;
mod retention;
mod rooms;
pub mod rows;
pub mod search;
pub mod search_page;
mod statement;
#[macro_use]
mod run;
mod store;
mod transcript;
mod users;
pub mod webhooks;

pub use backend::Backend;
pub use driver::Driver;
pub use statement::{Arg, Column, ColumnIndex, Conn, FromColumn, Row, Statement, Value, sql};
pub use store::SqlStore;
