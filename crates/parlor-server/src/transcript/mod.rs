//! Signed, verifiable transcripts of a conversation (issue #24; docs/transcripts.md).
//!
//! The event log is hash-chained as it is written (`parlor_core::chain`, computed by the store
//! wherever events are appended). A transcript is that chain written out as JSON lines, with
//! the content each event carried where the server still has it, signed with the server's
//! Ed25519 key ([`key`]). [`build`] makes one on the server (`GET
//! /api/server/conversations/{id}/transcript`, `parlor admin export --signed`); [`verify`]
//! checks one offline (`parlor verify FILE`) and never needs the server.

pub mod build;
pub mod format;
pub mod key;
pub mod verify;

pub use build::Transcripts;
pub use key::{TranscriptKey, TranscriptSettings};
