//! `Transcripts`: a conversation's signed transcript, made from the store's chained events.
//! Content goes in only where it still matches the hash the chain committed to; a deleted
//! message's texts are withheld (`deleted`), an erased one's (account erasure, retention: its
//! `message_deleted` event says `erased`) and content the server no longer has, or no longer
//! has as it was, are withheld as `erased`: shown as missing, never rewritten.

use std::sync::Arc;

use parlor_core::chain::{self, GENESIS, to_hex};
use parlor_core::{ConversationId, Seq, Timestamp};
use parlor_store::{ChainedEvent, Store};

use super::TranscriptKey;
use super::format::{EventLine, FORMAT, Header, MemberLine, SignatureLine};
use crate::error::{ApiError, ApiResult};

/// Events read from the store at a time.
const PAGE: u32 = 500;

#[derive(Clone)]
pub struct Transcripts {
    store: Arc<dyn Store>,
    key: Arc<TranscriptKey>,
}

impl Transcripts {
    pub fn new(store: Arc<dyn Store>, key: TranscriptKey) -> Self {
        Self { store, key: Arc::new(key) }
    }

    /// The signing key's public half, in hex.
    pub fn public_key(&self) -> String {
        self.key.public_hex()
    }

    /// The whole conversation's transcript, signed; `NotFound` for an unknown conversation.
    pub async fn signed(&self, id: ConversationId) -> ApiResult<Vec<u8>> {
        let (conversation, members) =
            self.store.conversation_with_members(id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
        let mut lines = Vec::new();
        let mut after = Seq::ZERO;
        loop {
            let page = self.store.chained_events(id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let full = page.len() == PAGE as usize;
            lines.extend(page.into_iter().map(line));
            if !full {
                break;
            }
        }
        let header = Header {
            format: FORMAT.to_owned(),
            conversation_id: id.0,
            kind: conversation.kind.as_str().to_owned(),
            title: conversation.title.clone(),
            members: members.iter().map(|m| MemberLine { id: m.user.id.0, name: m.user.name.clone() }).collect(),
            exported_at: Timestamp::now().to_rfc3339(),
            public_key: self.key.public_hex(),
            events: lines.len() as u64,
            first_seq: lines.first().map(|l| l.seq),
            last_seq: lines.last().map(|l| l.seq),
            // The chain's start is known only when the log's first event is here.
            anchor: (lines.first().map(|l| l.seq) == Some(1)).then(|| to_hex(&GENESIS)),
            head: lines.last().and_then(|l| l.hash.clone()),
        };
        let mut out = Vec::new();
        push_json(&mut out, &header)?;
        for l in &lines {
            push_json(&mut out, l)?;
        }
        let signature = SignatureLine { algorithm: "ed25519".into(), signature: self.key.sign_hex(&out) };
        push_json(&mut out, &signature)?;
        Ok(out)
    }
}

fn push_json(out: &mut Vec<u8>, value: &impl serde::Serialize) -> ApiResult<()> {
    serde_json::to_writer(&mut *out, value).map_err(|e| {
        tracing::error!(error = %e, "cannot write a transcript line");
        ApiError::internal()
    })?;
    out.push(b'\n');
    Ok(())
}

/// The event as a transcript line: its content included only when it matches its hash.
fn line(e: ChainedEvent) -> EventLine {
    let message_event = matches!(e.kind.as_str(), "message_created" | "message_edited");
    let committed = e.content_hash.as_deref().and_then(chain::from_hex);
    let (content, withheld) = match committed {
        // Logged before the chain began: nothing to check content against.
        None => (None, None),
        Some(_) if message_event && e.message_erased => (None, Some("erased".to_owned())),
        Some(_) if message_event && e.message_deleted => (None, Some("deleted".to_owned())),
        Some(hash) => {
            let candidate = if message_event { e.content } else { Some(String::new()) };
            match candidate {
                Some(c) if chain::content_hash(&c) == hash => (Some(c), None),
                _ => (None, Some("erased".to_owned())),
            }
        }
    };
    EventLine {
        seq: e.seq.0,
        kind: e.kind,
        metadata: e.metadata,
        content_hash: e.content_hash,
        hash: e.hash,
        content,
        withheld,
    }
}
