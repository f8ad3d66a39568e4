//! Attachments: files sent as messages (photos, video, audio, voice notes, documents), what the
//! server tells about them, and the rules for the names users give them.

use crate::{ConversationId, MessageId, Timestamp, strip_invisible};

/// An attachment's id, distinct from its message's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentId(pub i64);

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What an attachment message is; decided from the file's content, not the client's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    /// Audio the sender recorded as a voice note.
    Voice,
    File,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Image => "image",
            AttachmentKind::Video => "video",
            AttachmentKind::Audio => "audio",
            AttachmentKind::Voice => "voice",
            AttachmentKind::File => "file",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "image" => AttachmentKind::Image,
            "video" => AttachmentKind::Video,
            "audio" => AttachmentKind::Audio,
            "voice" => AttachmentKind::Voice,
            "file" => AttachmentKind::File,
            _ => return None,
        })
    }
}

/// An attachment as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub kind: AttachmentKind,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Images only, after EXIF orientation.
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_thumbnail: bool,
    /// Removed by the retention policy: the message stays, the file is gone.
    pub expired: bool,
}

/// An attachment about to be stored with its message; its bytes are already in blob storage.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub kind: AttachmentKind,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub blob_key: String,
    pub thumbnail_key: Option<String>,
    /// Hex SHA-256 of the content: the download's ETag.
    pub sha256: String,
}

/// An attachment with what the server needs to serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub attachment: Attachment,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub blob_key: String,
    pub thumbnail_key: Option<String>,
    pub sha256: String,
    pub created_at: Timestamp,
}

/// A file name safe to store and to put in a `Content-Disposition` header: no directories, no
/// control or invisible characters (`crate::invisible`), at most 255 bytes; "file" when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible = strip_invisible(base);
    let mut name: String = visible.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
    while name.len() > 255 {
        name.pop();
    }
    if name.is_empty() || name == "." || name == ".." { "file".to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitize_file_name(""), "file");
        assert_eq!(sanitize_file_name(".."), "file");
        assert!(sanitize_file_name(&"é".repeat(300)).len() <= 255);
    }
}
