//! One live call as the node running it holds it: who is being rung, who is in it (each by the
//! device that answered), and when it was first answered. Changed only under the registry's lock
//! in `mod.rs`; nothing here is stored.

use std::time::Instant;

use parlor_core::{CallMedia, ConversationId, UserId};
use parlor_protocol::CallPeer;

use crate::bus::Device;

/// A device in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participant {
    pub user: UserId,
    pub device: Device,
}

impl Participant {
    /// How other devices address this one in `call_signal`.
    pub fn peer(self) -> String {
        format!("{:016x}", self.device)
    }
}

#[derive(Debug)]
pub struct Call {
    pub conversation: ConversationId,
    pub media: CallMedia,
    pub caller: UserId,
    /// A direct conversation: the one callee's decline ends the call.
    pub direct: bool,
    /// Callees still being rung (every device of each).
    pub ringing: Vec<UserId>,
    /// In the call now, caller first.
    pub participants: Vec<Participant>,
    /// Everyone who was ever in it, in the order they joined (for the call's message).
    pub joined: Vec<UserId>,
    /// When the first callee answered.
    pub answered: Option<Instant>,
}

impl Call {
    pub fn participant(&self, user: UserId, device: Device) -> Option<Participant> {
        self.participants.iter().copied().find(|p| p.user == user && p.device == device)
    }

    pub fn by_peer(&self, peer: &str) -> Option<Participant> {
        self.participants.iter().copied().find(|p| p.peer() == peer)
    }

    pub fn peers(&self) -> Vec<CallPeer> {
        self.participants.iter().map(|p| CallPeer { user_id: p.user, peer: p.peer() }).collect()
    }

    pub fn duration_secs(&self) -> u64 {
        self.answered.map_or(0, |at| at.elapsed().as_secs())
    }
}
