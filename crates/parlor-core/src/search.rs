//! Search: the words a user searches for, parsed at the edge, the attachment filter, and what a
//! message search finds.

use crate::{AttachmentKind, Message, MessageId, ValidationError};

/// What a user typed into a search box: 1 to [`SearchQuery::MAX_CHARS`] characters after
/// trimming, at most [`SearchQuery::MAX_TERMS`] words. It is only ever text: stores must never
/// read it as query syntax (quotes, `OR`, `*`, `NEAR` are just characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    text: String,
    terms: Vec<String>,
}

impl SearchQuery {
    pub const MAX_CHARS: usize = 200;
    /// Every word is a prefix lookup in the index; a bound keeps one query's work bounded.
    pub const MAX_TERMS: usize = 16;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(ValidationError::new("q", "must not be empty: say what to search for"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new("q", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(ValidationError::new("q", "must not contain control characters"));
        }
        let terms: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if terms.len() > Self::MAX_TERMS {
            return Err(ValidationError::new("q", format!("must have at most {} words", Self::MAX_TERMS)));
        }
        Ok(Self { text: terms.join(" "), terms })
    }

    /// The words joined by single spaces: what name searches look for as a substring.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The whitespace-separated words: a message matches when it has a word starting with each.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }
}

/// Where the next page of a message search starts: below which message (every candidate has a
/// smaller id, so messages sent later never shift the pages) and how many of the ranked results
/// from there were already shown. On the wire it is opaque text (`<below>.<skip>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    pub below: MessageId,
    pub skip: u32,
}

impl SearchCursor {
    /// How many matches, newest first, the server ranks together; a cursor's `skip` is within
    /// one window, so a page from a cursor reads at most two.
    pub const WINDOW: u32 = 200;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::new("cursor", "must be a next_cursor a search returned");
        let (below, skip) = raw.split_once('.').ok_or_else(invalid)?;
        let below = below.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(invalid)?;
        // A skip past the window no search returns: it would make one request read unboundedly.
        let skip = skip.parse::<u32>().ok().filter(|skip| *skip < Self::WINDOW).ok_or_else(invalid)?;
        Ok(Self { below: MessageId(below), skip })
    }
}

impl std::fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.below.0, self.skip)
    }
}

/// Which attachment a found message must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentFilter {
    /// Any attachment.
    Any,
    Kind(AttachmentKind),
}

impl AttachmentFilter {
    /// `attachment`, or one kind: `image`, `video`, `audio`, `voice`, `file`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "attachment" => Ok(Self::Any),
            other => AttachmentKind::parse(other)
                .map(Self::Kind)
                .ok_or_else(|| ValidationError::new("has", "must be attachment, image, video, audio, voice or file")),
        }
    }
}

/// A message a search found, with an excerpt around what matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHit {
    pub message: Message,
    /// Plain text (not escaped) with each match between [`MessageHit::MATCH_START`] and
    /// [`MessageHit::MATCH_END`]; cut with "…" around the matches when the message is long.
    pub snippet: String,
}

impl MessageHit {
    /// Control characters, so no markup and no plain text can be taken for a marker, except a
    /// message that itself contains them (see [`MessageHit::markers_are_trustworthy`]).
    pub const MATCH_START: char = '\u{2}';
    pub const MATCH_END: char = '\u{3}';

    /// False when the message's own text contains a marker character: then the snippet's
    /// markers cannot be told apart from the sender's, and none should be shown.
    pub fn markers_are_trustworthy(&self) -> bool {
        !self.message.content.contains([Self::MATCH_START, Self::MATCH_END])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_trimmed_bounded_words() {
        let q = SearchQuery::parse("  kitchen   sink ").map_err(|e| e.to_string());
        assert_eq!(q.as_ref().map(SearchQuery::as_str), Ok("kitchen sink"));
        assert_eq!(q.as_ref().map(|q| q.terms().len()), Ok(2));
        assert!(SearchQuery::parse(" \t ").is_err());
        assert!(SearchQuery::parse(&"é".repeat(200)).is_ok(), "the limit counts characters");
        assert!(SearchQuery::parse(&"é".repeat(201)).is_err());
        assert!(SearchQuery::parse(&"a ".repeat(17)).is_err());
        assert!(SearchQuery::parse("a\u{2}b").is_err());
        assert!(SearchQuery::parse("a\tb").is_ok_and(|q| q.terms().len() == 2), "tabs separate words");
    }

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let cursor = SearchCursor { below: MessageId(31), skip: 40 };
        assert_eq!(SearchCursor::parse(&cursor.to_string()), Ok(cursor));
        for bad in ["", "31", "31.", ".4", "0.4", "-1.4", "31.-4", "x.y", "31.4.5", "31.200", "31.4294967295"] {
            assert!(SearchCursor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attachment_filters_name_any_or_one_kind() {
        assert_eq!(AttachmentFilter::parse("attachment"), Ok(AttachmentFilter::Any));
        assert_eq!(AttachmentFilter::parse("voice"), Ok(AttachmentFilter::Kind(AttachmentKind::Voice)));
        assert!(AttachmentFilter::parse("photo").is_err());
    }
}
