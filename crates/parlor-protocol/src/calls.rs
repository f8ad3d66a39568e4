//! Call signaling frames on the unified socket (docs/calls.md): what a device says about a call
//! and what the server tells the devices in it. Calls and peers are named by opaque strings the
//! server hands out (`call_id`; `peer`, one device in one call). `call_signal`'s `data` (an SDP
//! offer or answer, an ICE candidate) is relayed as the sender wrote it and never stored.

use parlor_core::ConversationId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallInviteFrame {
    pub conversation_id: ConversationId,
    /// `voice` or `video`.
    pub media: String,
}

/// `call_ringing`, `call_accept`, `call_decline` and `call_end`: a device's word about one call.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallFrame {
    pub call_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallSignalFrame {
    pub call_id: String,
    /// The peer it is for (from `call_accepted`, or `from` of a signal received).
    pub to: String,
    /// Any JSON object; relayed unchanged.
    pub data: SignalData,
}

impl PartialEq for CallSignalFrame {
    fn eq(&self, other: &Self) -> bool {
        (&self.call_id, &self.to, self.data.0.get()) == (&other.call_id, &other.to, other.data.0.get())
    }
}

/// A signal's payload, kept as the JSON text it came in (read by serde's own derive from the
/// frame's text, never through `serde_json::Value`; see `frame_type`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalData(pub Box<RawValue>);

impl SignalData {
    /// Objects only: a signal is `{"sdp": ...}` or `{"candidate": ...}`, never a bare value.
    pub fn is_object(&self) -> bool {
        self.0.get().trim_start().starts_with('{')
    }

    pub fn len(&self) -> usize {
        self.0.get().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.get().is_empty()
    }
}

/// One participant of a call as `call_accepted` names them.
#[derive(Debug, Clone, Serialize)]
pub struct CallPeer {
    pub user_id: parlor_core::UserId,
    pub peer: String,
}
