//! The bus's wire format between nodes: what one node publishes once per event (or cache
//! change) for every other node's hub. A small binary header (version, kind, origin node, ids)
//! followed by the frame's JSON exactly as local connections receive it, so a receiving node
//! never serializes an event again.
//!
//! Layout, integers big-endian: `version u8 | kind u8 | origin u64 | fields | frame bytes...`.
//! User lists are a `u16` count then one `i64` per user.

use axum::extract::ws::Utf8Bytes;
use bytes::{BufMut, Bytes, BytesMut};
use parlor_core::{ConversationId, Seq, SessionId, UserId};

use super::hub::DeviceFilter;

const VERSION: u8 = 1;
/// Larger lists are not sent (a removal's `also` is a handful of users; presence goes to
/// contacts): the receiving node would miss them, which the log repairs for logged events.
const MAX_USERS: usize = u16::MAX as usize;

/// One message on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The node that published it; a node ignores its own.
    pub origin: u64,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A logged event, as [`crate::bus::Hub::publish_with`] sends it.
    Event { conversation: ConversationId, seq: Seq, message_seq: Option<Seq>, also: Vec<UserId>, frame: Utf8Bytes },
    /// A frame that is not logged (typing), for every member except `except`.
    Ephemeral { conversation: ConversationId, except: Option<UserId>, frame: Utf8Bytes },
    /// A frame for these users' connections (presence, notifications).
    Personal { users: Vec<UserId>, frame: Utf8Bytes },
    /// The conversation's membership changed: drop cached members.
    ForgetMembers(ConversationId),
    /// An admin disabled the user: close their sockets.
    Disconnect(UserId),
    /// The user was enabled again.
    Reconnect(UserId),
    /// A block between the two changed: drop the cached answer.
    ForgetBlock(UserId, UserId),
    /// The user's session was revoked: close its sockets.
    EndSession(UserId, SessionId),
    /// A frame for some devices of one user (calls).
    Devices { user: UserId, device: DeviceFilter, frame: Utf8Bytes },
    /// A call's control message for the node that runs the call (`crate::calls::route`),
    /// as JSON.
    Call(Utf8Bytes),
}

/// A payload that is not an envelope this version understands.
#[derive(Debug, thiserror::Error)]
#[error("malformed bus envelope")]
pub struct Malformed;

impl Envelope {
    pub fn encode(&self) -> Bytes {
        let frame_len = match &self.body {
            Body::Event { frame, .. }
            | Body::Ephemeral { frame, .. }
            | Body::Personal { frame, .. }
            | Body::Devices { frame, .. }
            | Body::Call(frame) => frame.len(),
            _ => 0,
        };
        let mut buf = BytesMut::with_capacity(64 + frame_len);
        buf.put_u8(VERSION);
        match &self.body {
            Body::Event { conversation, seq, message_seq, also, frame } => {
                header(&mut buf, 0, self.origin);
                buf.put_i64(conversation.0);
                buf.put_i64(seq.0);
                buf.put_i64(message_seq.map_or(0, |s| s.0));
                put_users(&mut buf, also);
                buf.put_slice(frame.as_bytes());
            }
            Body::Ephemeral { conversation, except, frame } => {
                header(&mut buf, 1, self.origin);
                buf.put_i64(conversation.0);
                buf.put_i64(except.map_or(0, |u| u.0));
                buf.put_slice(frame.as_bytes());
            }
            Body::Personal { users, frame } => {
                header(&mut buf, 2, self.origin);
                put_users(&mut buf, users);
                buf.put_slice(frame.as_bytes());
            }
            Body::ForgetMembers(id) => {
                header(&mut buf, 3, self.origin);
                buf.put_i64(id.0);
            }
            Body::Disconnect(user) => {
                header(&mut buf, 4, self.origin);
                buf.put_i64(user.0);
            }
            Body::Reconnect(user) => {
                header(&mut buf, 5, self.origin);
                buf.put_i64(user.0);
            }
            Body::ForgetBlock(a, b) => {
                header(&mut buf, 6, self.origin);
                buf.put_i64(a.0);
                buf.put_i64(b.0);
            }
            Body::EndSession(user, session) => {
                header(&mut buf, 7, self.origin);
                buf.put_i64(user.0);
                buf.put_i64(session.0);
            }
            Body::Devices { user, device, frame } => {
                header(&mut buf, 8, self.origin);
                buf.put_i64(user.0);
                let (mode, id) = match device {
                    DeviceFilter::Any => (0, 0),
                    DeviceFilter::Only(d) => (1, *d),
                    DeviceFilter::Except(d) => (2, *d),
                };
                buf.put_u8(mode);
                buf.put_u64(id);
                buf.put_slice(frame.as_bytes());
            }
            Body::Call(payload) => {
                header(&mut buf, 9, self.origin);
                buf.put_slice(payload.as_bytes());
            }
        }
        buf.freeze()
    }

    pub fn decode(payload: &[u8]) -> Result<Envelope, Malformed> {
        let mut r = Reader(payload);
        if r.u8()? != VERSION {
            return Err(Malformed);
        }
        let kind = r.u8()?;
        let origin = r.u64()?;
        let body = match kind {
            0 => {
                let conversation = ConversationId(r.i64()?);
                let seq = Seq(r.i64()?);
                let message_seq = Some(Seq(r.i64()?)).filter(|s| s.0 > 0);
                let also = r.users()?;
                Body::Event { conversation, seq, message_seq, also, frame: r.frame()? }
            }
            1 => {
                let conversation = ConversationId(r.i64()?);
                let except = Some(UserId(r.i64()?)).filter(|u| u.0 != 0);
                Body::Ephemeral { conversation, except, frame: r.frame()? }
            }
            2 => {
                let users = r.users()?;
                Body::Personal { users, frame: r.frame()? }
            }
            3 => Body::ForgetMembers(ConversationId(r.i64()?)),
            4 => Body::Disconnect(UserId(r.i64()?)),
            5 => Body::Reconnect(UserId(r.i64()?)),
            6 => Body::ForgetBlock(UserId(r.i64()?), UserId(r.i64()?)),
            7 => Body::EndSession(UserId(r.i64()?), SessionId(r.i64()?)),
            8 => {
                let user = UserId(r.i64()?);
                let device = match (r.u8()?, r.u64()?) {
                    (0, _) => DeviceFilter::Any,
                    (1, d) => DeviceFilter::Only(d),
                    (2, d) => DeviceFilter::Except(d),
                    _ => return Err(Malformed),
                };
                Body::Devices { user, device, frame: r.frame()? }
            }
            9 => Body::Call(r.frame()?),
            _ => return Err(Malformed),
        };
        Ok(Envelope { origin, body })
    }
}

fn header(buf: &mut BytesMut, kind: u8, origin: u64) {
    buf.put_u8(kind);
    buf.put_u64(origin);
}

fn put_users(buf: &mut BytesMut, users: &[UserId]) {
    let users = &users[..users.len().min(MAX_USERS)];
    buf.put_u16(u16::try_from(users.len()).unwrap_or(u16::MAX));
    users.iter().for_each(|u| buf.put_i64(u.0));
}

/// Reads the payload front to back; every read checks the length first.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(Malformed)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64, Malformed> {
        Ok(i64::from_be_bytes(self.take()?))
    }

    fn users(&mut self) -> Result<Vec<UserId>, Malformed> {
        let n = u16::from_be_bytes(self.take()?);
        (0..n).map(|_| self.i64().map(UserId)).collect()
    }

    fn frame(self) -> Result<Utf8Bytes, Malformed> {
        Utf8Bytes::try_from(self.0.to_vec()).map_err(|_| Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(body: Body) {
        let envelope = Envelope { origin: 0xdead_beef_0102_0304, body };
        let decoded = Envelope::decode(&envelope.encode()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded, envelope);
    }

    fn frame_copy() -> Utf8Bytes {
        Utf8Bytes::from(r#"{"type":"call_signal"}"#)
    }

    #[test]
    fn every_kind_round_trips() {
        let frame = Utf8Bytes::from(r#"{"type":"chat_message","content":"héllo"}"#);
        round_trip(Body::Event {
            conversation: ConversationId(7),
            seq: Seq(42),
            message_seq: Some(Seq(9)),
            also: vec![UserId(3), UserId(4)],
            frame: frame.clone(),
        });
        round_trip(Body::Event {
            conversation: ConversationId(7),
            seq: Seq(43),
            message_seq: None,
            also: vec![],
            frame: frame.clone(),
        });
        round_trip(Body::Ephemeral { conversation: ConversationId(7), except: Some(UserId(2)), frame: frame.clone() });
        round_trip(Body::Personal { users: vec![UserId(5)], frame });
        round_trip(Body::ForgetMembers(ConversationId(8)));
        round_trip(Body::Disconnect(UserId(9)));
        round_trip(Body::Reconnect(UserId(9)));
        round_trip(Body::ForgetBlock(UserId(1), UserId(2)));
        round_trip(Body::EndSession(UserId(5), SessionId(0x7fff_0000_1234)));
        round_trip(Body::Devices { user: UserId(5), device: DeviceFilter::Only(u64::MAX), frame: frame_copy() });
        round_trip(Body::Devices { user: UserId(5), device: DeviceFilter::Except(3), frame: frame_copy() });
        round_trip(Body::Call(Utf8Bytes::from(r#"{"call":"ab"}"#)));
    }

    #[test]
    fn truncated_or_foreign_payloads_are_refused() {
        let envelope = Envelope { origin: 1, body: Body::ForgetBlock(UserId(1), UserId(2)) };
        let bytes = envelope.encode();
        for len in 0..bytes.len() {
            assert!(Envelope::decode(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
        assert!(Envelope::decode(b"\x02\x03").is_err());
        assert!(Envelope::decode(b"hello").is_err());
    }
}
