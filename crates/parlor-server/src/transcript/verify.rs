//! `parlor verify FILE`: checks a transcript offline, needing nothing but the file (and,
//! to pin the signer, the server's public key): the signature over every byte before the
//! signature line; each event's content against its content hash; each link of the chain,
//! in seq order with none missing; the header's counts and head. Then it lists what changed in
//! the conversation (edits, deletes) and what content is withheld, as the file shows them:
//! a verifier reports, it never repairs.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use parlor_core::chain::{self, Digest32, GENESIS, from_hex};
use serde_json::Value;

use super::format::{EventLine, FORMAT, Header, SignatureLine};

/// What verifying found.
#[derive(Debug, Default)]
pub struct Report {
    pub conversation_id: Option<i64>,
    pub public_key: Option<String>,
    pub events: usize,
    /// Anything that makes the transcript untrustworthy; empty when it verifies.
    pub problems: Vec<String>,
    /// Edits, deletes and withheld content, in seq order.
    pub changes: Vec<String>,
    /// Other things worth knowing (where the chain starts).
    pub notes: Vec<String>,
}

impl Report {
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as `parlor verify` prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let id = self.conversation_id.map_or_else(|| "?".to_owned(), |i| i.to_string());
        out.push_str(&format!("transcript of conversation {id}: {} events\n", self.events));
        if let Some(key) = &self.public_key {
            out.push_str(&format!("signed by key {key}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        for change in &self.changes {
            out.push_str(&format!("{change}\n"));
        }
        for problem in &self.problems {
            out.push_str(&format!("PROBLEM: {problem}\n"));
        }
        out.push_str(if self.verified() {
            "VERIFIED: signature valid, chain intact\n"
        } else {
            "FAILED: this transcript is not what the server signed, or its chain is broken\n"
        });
        out
    }
}

/// Verifies the transcript `file`; with `expected_key` (hex), it must be signed by that key.
pub fn verify(file: &[u8], expected_key: Option<&str>) -> Report {
    let mut report = Report::default();
    let body = file.strip_suffix(b"\n").unwrap_or(file);
    let Some(split) = body.iter().rposition(|b| *b == b'\n') else {
        report.problems.push("not a transcript: fewer than two lines".into());
        return report;
    };
    let (signed, signature_line) = (&file[..=split], &body[split + 1..]);
    let Ok(text) = std::str::from_utf8(signed) else {
        report.problems.push("not a transcript: not UTF-8".into());
        return report;
    };
    let mut lines = text.lines();
    let header: Header = match lines.next().map(serde_json::from_str) {
        Some(Ok(h)) => h,
        _ => {
            report.problems.push("the first line is not a transcript header".into());
            return report;
        }
    };
    if header.format != FORMAT {
        report.problems.push(format!("unknown format {:?} (this parlor reads {FORMAT})", header.format));
    }
    report.conversation_id = Some(header.conversation_id);
    report.public_key = Some(header.public_key.clone());
    check_signature(&mut report, &header.public_key, signed, signature_line, expected_key);

    let mut events = Vec::new();
    for (n, line) in lines.enumerate() {
        match serde_json::from_str::<EventLine>(line) {
            Ok(e) => events.push(e),
            Err(_) => report.problems.push(format!("line {} is not an event", n + 2)),
        }
    }
    report.events = events.len();
    check_chain(&mut report, &header, &events);
    list_changes(&mut report, &events);
    report
}

fn check_signature(report: &mut Report, key_hex: &str, signed: &[u8], line: &[u8], expected: Option<&str>) {
    if let Some(expected) = expected
        && !expected.trim().eq_ignore_ascii_case(key_hex)
    {
        report.problems.push(format!("signed by key {key_hex}, not the expected {}", expected.trim()));
    }
    let key = from_hex(key_hex).and_then(|k| VerifyingKey::from_bytes(&k).ok());
    let signature: Option<Signature> = serde_json::from_slice::<SignatureLine>(line)
        .ok()
        .filter(|s| s.algorithm == "ed25519")
        .and_then(|s| hex_bytes::<64>(&s.signature))
        .map(|b| Signature::from_bytes(&b));
    match (key, signature) {
        (None, _) => report.problems.push("the header's public key is not an Ed25519 key".into()),
        (_, None) => report.problems.push("the last line is not an Ed25519 signature".into()),
        (Some(key), Some(signature)) => {
            if key.verify_strict(signed, &signature).is_err() {
                report.problems.push("the signature does not match the file: it was changed after signing".into());
            }
        }
    }
}

fn check_chain(report: &mut Report, header: &Header, events: &[EventLine]) {
    // The previous link; `None` while it is unknown (the events before are not in the file).
    let mut prev: Option<Digest32> = match header.anchor.as_deref().map(from_hex) {
        Some(Some(anchor)) => Some(anchor),
        Some(None) => {
            report.problems.push("the header's anchor is not a hash".into());
            None
        }
        None => None,
    };
    let mut expected_seq = header.first_seq;
    let (mut chained, mut unchained) = (false, 0);
    for e in events {
        if let Some(want) = expected_seq
            && e.seq != want
        {
            report.problems.push(format!("seq {} where seq {want} belongs: events missing or out of order", e.seq));
        }
        expected_seq = Some(e.seq + 1);
        let (Some(metadata), Some(content_hash), Some(hash)) = (&e.metadata, &e.content_hash, &e.hash) else {
            if chained {
                report.problems.push(format!("seq {}: not chained, after the chain began", e.seq));
            }
            unchained += 1;
            prev = Some(GENESIS);
            continue;
        };
        chained = true;
        let (Some(content_hash), Some(hash)) = (from_hex(content_hash), from_hex(hash)) else {
            report.problems.push(format!("seq {}: a hash is not 64 hex digits", e.seq));
            prev = None;
            continue;
        };
        if let Some(content) = &e.content
            && chain::content_hash(content) != content_hash
        {
            report.problems.push(format!("seq {}: the content does not match its hash", e.seq));
        }
        match prev {
            Some(p) => {
                if chain::link(&p, e.seq, &e.kind, metadata, &content_hash) != hash {
                    report.problems.push(format!("seq {}: the chain is broken here (its hash does not follow)", e.seq));
                }
            }
            None => report.notes.push(format!(
                "the events before seq {} are not in the transcript: the chain is checked from the next one",
                e.seq
            )),
        }
        prev = Some(hash);
    }
    if unchained > 0 {
        report.notes.push(format!("{unchained} events were logged before the chain began and cannot be checked"));
    }
    let last = events.last();
    if header.events != events.len() as u64 || header.last_seq != last.map(|e| e.seq) {
        report.problems.push(format!(
            "the header promises {} events up to seq {:?}; the file has {} up to seq {:?}",
            header.events,
            header.last_seq,
            events.len(),
            last.map(|e| e.seq)
        ));
    }
    if header.head != last.and_then(|e| e.hash.clone()) {
        report.problems.push("the header's head is not the last event's hash".into());
    }
}

/// Edits, deletes and withheld content, as the file records them.
fn list_changes(report: &mut Report, events: &[EventLine]) {
    let field = |e: &EventLine, key: &str| -> Option<Value> {
        let metadata: Value = serde_json::from_str(e.metadata.as_deref()?).ok()?;
        Some(metadata.get(key)?.clone())
    };
    // Each message's creation seq and latest text, to show edits as before and after.
    let mut created: HashMap<i64, (i64, Option<String>)> = HashMap::new();
    for e in events {
        let message = field(e, "message_id").and_then(|m| m.as_i64());
        match (e.kind.as_str(), message) {
            ("message_created", Some(m)) => {
                created.insert(m, (e.seq, e.content.clone()));
            }
            ("message_edited", Some(m)) => {
                let (origin, before) = created.get(&m).cloned().unwrap_or((0, None));
                report.changes.push(format!(
                    "edited: message {m} (seq {origin}) at seq {}: {} -> {}",
                    e.seq,
                    quote(before.as_deref()),
                    quote(e.content.as_deref())
                ));
                created.insert(m, (origin, e.content.clone()));
            }
            ("message_deleted", Some(m)) => {
                let origin = created.get(&m).map_or(0, |c| c.0);
                // The erasure's own deletion says so in its (hashed) data.
                let erased = field(e, "data")
                    .map(|d| match d {
                        Value::String(s) => serde_json::from_str(&s).unwrap_or_default(),
                        other => other,
                    })
                    .is_some_and(|d| d["erased"] == true);
                let what = if erased { "erased" } else { "deleted" };
                report.changes.push(format!("{what}: message {m} (seq {origin}) at seq {}", e.seq));
            }
            _ => {}
        }
        if e.content.is_none() && e.hash.is_some() {
            let why = e.withheld.as_deref().unwrap_or("no reason given");
            report.changes.push(format!(
                "withheld: seq {} ({}) content not in the transcript ({why}); its hash is still in the chain",
                e.seq, e.kind
            ));
        }
    }
}

fn quote(text: Option<&str>) -> String {
    match text {
        None => "(withheld)".to_owned(),
        Some(t) if t.chars().count() > 60 => format!("{:?}...", t.chars().take(60).collect::<String>()),
        Some(t) => format!("{t:?}"),
    }
}

fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, chunk) in text.as_bytes().chunks_exact(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}
