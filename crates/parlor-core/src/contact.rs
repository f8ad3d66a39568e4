//! Contacts: the social link between two users, requested by one and accepted by the other
//! (seed 001 and the API call it a "connection"; in code that word means sockets).

use crate::{Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactStatus {
    Pending,
    Accepted,
}

/// A contact between two users: requested by one, accepted by the other (a "connection" in
/// the API and the `connections` table, as seed 001 names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    pub requester: UserId,
    pub addressee: UserId,
    pub status: ContactStatus,
    pub created_at: Timestamp,
}
