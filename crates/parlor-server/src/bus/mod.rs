//! Fan-out: getting each event to every open connection of every member of its conversation.
//! Today one node's [`Hub`]; the Redis bus of the scale-out issue will feed the same hub from
//! other nodes.
//!
//! **Invariant:** an event is serialized once and its bytes are shared by every recipient; a
//! recipient whose queue is full is disconnected (it resumes from the log), never waited for.

mod hub;

pub use hub::{ConnectionGuard, Hub, Outbound, Transition};
