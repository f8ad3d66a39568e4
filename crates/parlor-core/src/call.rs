//! Calls as the conversation log records them: one message of kind `call` per call, saying
//! whether it was voice or video, how it ended (missed, declined, busy, or answered
//! and how long it lasted) and who took part. The live call itself (ringing, signaling) is the
//! server's and never stored.

/// Voice only, or with cameras.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMedia {
    Voice,
    Video,
}

impl CallMedia {
    pub fn parse(raw: &str) -> Option<CallMedia> {
        match raw {
            "voice" => Some(CallMedia::Voice),
            "video" => Some(CallMedia::Video),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallMedia::Voice => "voice",
            CallMedia::Video => "video",
        }
    }
}

/// How a call ended, as its message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Nobody answered: the ringing timed out, or the caller hung up or went away first.
    Missed,
    /// Every callee declined.
    Declined,
    /// The callee was in another call.
    Busy,
    /// Answered; the record carries how long it lasted.
    Answered,
}

impl CallOutcome {
    pub fn parse(raw: &str) -> Option<CallOutcome> {
        Some(match raw {
            "missed" => CallOutcome::Missed,
            "declined" => CallOutcome::Declined,
            "busy" => CallOutcome::Busy,
            "answered" => CallOutcome::Answered,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Missed => "missed",
            CallOutcome::Declined => "declined",
            CallOutcome::Busy => "busy",
            CallOutcome::Answered => "answered",
        }
    }
}

/// What a call message records. Its sender is the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub media: CallMedia,
    pub outcome: CallOutcome,
    /// From the first answer to the end; 0 unless answered.
    pub duration_secs: u64,
    /// Everyone who was in the call, caller first (only the caller when nobody answered).
    pub participants: Vec<crate::UserId>,
}

impl CallRecord {
    /// The message's text, for clients that show only `content` (and for previews).
    pub fn summary(&self) -> String {
        let what = match self.media {
            CallMedia::Voice => "Voice call",
            CallMedia::Video => "Video call",
        };
        match self.outcome {
            CallOutcome::Answered => {
                let (m, s) = (self.duration_secs / 60, self.duration_secs % 60);
                format!("📞 {what} · {m}:{s:02}")
            }
            CallOutcome::Missed => format!("📞 Missed {}", what.to_lowercase()),
            CallOutcome::Declined => format!("📞 {what} declined"),
            CallOutcome::Busy => format!("📞 {what}: busy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_what_happened() {
        let record = |outcome, duration_secs| CallRecord {
            media: CallMedia::Video,
            outcome,
            duration_secs,
            participants: vec![crate::UserId(1)],
        };
        assert_eq!(record(CallOutcome::Answered, 125).summary(), "📞 Video call · 2:05");
        assert_eq!(record(CallOutcome::Missed, 0).summary(), "📞 Missed video call");
        for raw in ["missed", "declined", "busy", "answered"] {
            assert_eq!(CallOutcome::parse(raw).map(CallOutcome::as_str), Some(raw));
        }
        assert_eq!(CallMedia::parse("screen"), None);
    }
}
