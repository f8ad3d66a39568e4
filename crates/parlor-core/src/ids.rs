//! Identifier newtypes, so a user id can never be passed where a conversation id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A parlor user. Host-app users also have an [`crate::ExternalId`].
    UserId
);
impl UserId {
    /// The author of notices the host platform posts (id 0, never handed out, cannot log in).
    pub const SYSTEM: UserId = UserId(0);
}

id_type!(
    /// A conversation: a direct message between two users today, rooms later.
    ConversationId
);
id_type!(
    /// A stored message, unique across all conversations.
    MessageId
);
id_type!(
    /// A signed-in session: one login and every refresh token rotated from it (a refresh
    /// token family). Random and never 0 for new sessions; 0 holds tokens from before sessions
    /// were tracked. Access tokens carry it as `sid`, and each socket knows the one it opened
    /// with, so a session can be ended everywhere at once.
    SessionId
);

/// A position in a per-conversation sequence. Sequences start at 1 and have no gaps; 0 means
/// "before the first".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Seq(pub i64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
