//! Authentication: password hashing, the access and refresh tokens parlor issues, the host
//! platform's tokens in host-app mode, credentials the platform checks (`introspection.rs`), and
//! one-time WebSocket tickets. Turns any of them into a [`User`] or a 401.
//!
//! **Invariant:** tokens and passwords are never logged; errors say what kind of problem a token
//! has (expired, wrong algorithm...) without echoing it.

mod extract;
mod host;
pub mod introspection;
mod passwords;
mod server_key;
mod tickets;
mod tokens;

pub use extract::{CurrentSession, CurrentUser, bearer_token, platform_credential};
pub use host::{HostAlgorithm, HostTokenSettings};
pub use passwords::Passwords;
pub use server_key::ServerKey;
pub use tickets::{Holder, Tickets};
pub use tokens::{Redeemed, Tokens};
