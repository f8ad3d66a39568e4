//! Authentication: password hashing, the access and refresh tokens parlor issues, the host
//! platform's tokens in host-app mode, and one-time WebSocket tickets. Turns any bearer token
//! into a [`User`] or a 401.
//!
//! **Invariant:** tokens and passwords are never logged; errors say what kind of problem a token
//! has (expired, wrong algorithm...) without echoing it.

mod extract;
mod host;
mod passwords;
mod server_key;
mod tickets;
mod tokens;

pub use extract::{CurrentSession, CurrentUser, bearer_token};
pub use host::{HostAlgorithm, HostTokenSettings};
pub use passwords::Passwords;
pub use server_key::ServerKey;
pub use tickets::{Holder, Tickets};
pub use tokens::{Redeemed, Tokens};
