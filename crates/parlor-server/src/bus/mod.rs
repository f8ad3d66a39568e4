//! Fan-out: getting each event to every open connection of every member of its conversation.
//! One node's [`Hub`] (`hub.rs`); with `redis_url` set, the hub also publishes each event and
//! cache change once to the other nodes and delivers theirs (`redis.rs`: the connections;
//! `envelope.rs`: the wire format; `remote.rs` and `tracker.rs`: applying envelopes, repairing
//! gaps from the database).
//!
//! **Invariant:** an event is serialized once and its bytes are shared by every recipient; a
//! recipient whose queue is full is disconnected (it resumes from the log), never waited for.
//! **Invariant:** Redis carries signals; the database repairs.

mod envelope;
mod hub;
mod mailbox;
mod redis;
mod remote;
mod tracker;

pub use hub::{ConnectionGuard, Device, DeviceFilter, Hub, Outbound, Transition};
pub use mailbox::{Mail, Mailbox};
pub use redis::RedisBus;
pub use remote::Remote;
