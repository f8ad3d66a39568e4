//! What a file really is, from its first bytes: never from its name or the client's claim.

use parlor_core::AttachmentKind;

/// How many leading bytes to look at; enough for office formats inside ZIP containers.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Image types we decode for thumbnails; other image types are stored as plain files.
const THUMBNAILED: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Types shown in the browser; everything else downloads (HTML and SVG never render).
const INLINE: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The detected content type of a file, from its first bytes.
pub fn content_type(head: &[u8]) -> String {
    if let Some(found) = infer::get(head) {
        return found.mime_type().to_owned();
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut by the sniff window is still text.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return "application/octet-stream".to_owned(),
    };
    if head.is_empty() || text.contains('\0') {
        return "application/octet-stream".to_owned();
    }
    let start = text.trim_start().get(..256).unwrap_or(text.trim_start()).to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with("<head") {
        "text/html".to_owned()
    } else if start.starts_with("<svg") || (start.starts_with("<?xml") && start.contains("<svg")) {
        "image/svg+xml".to_owned()
    } else if start.starts_with("#!") {
        "text/x-shellscript".to_owned()
    } else {
        "text/plain".to_owned()
    }
}

/// Executables get their own refusal message.
pub fn is_executable(content_type: &str) -> bool {
    matches!(
        content_type,
        "application/x-executable"
            | "application/vnd.microsoft.portable-executable"
            | "application/x-msdownload"
            | "application/x-mach-binary"
            | "application/vnd.android.dex"
            | "application/x-elf"
            | "application/x-shellscript"
            | "text/x-shellscript"
            | "application/x-sharedlib"
    )
}

/// The message kind for a file of this type; `voice` when the sender recorded a voice note.
pub fn kind(content_type: &str, voice: bool) -> AttachmentKind {
    let audio_like = content_type.starts_with("audio/") || content_type == "video/webm";
    if voice && audio_like {
        AttachmentKind::Voice
    } else if THUMBNAILED.contains(&content_type) || content_type == "image/heif" || content_type == "image/avif" {
        AttachmentKind::Image
    } else if content_type.starts_with("video/") {
        AttachmentKind::Video
    } else if content_type.starts_with("audio/") {
        AttachmentKind::Audio
    } else {
        AttachmentKind::File
    }
}

pub fn thumbnailable(content_type: &str) -> bool {
    THUMBNAILED.contains(&content_type)
}

/// Whether a browser may show this type inline; never for HTML, SVG or anything scriptable.
pub fn inline(content_type: &str) -> bool {
    INLINE.contains(&content_type)
        || matches!(
            content_type,
            "audio/mpeg" | "audio/ogg" | "audio/wav" | "audio/x-wav" | "audio/webm" | "audio/mp4" | "audio/aac"
        )
        || matches!(content_type, "video/mp4" | "video/webm" | "video/ogg" | "video/quicktime")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(content_type(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(content_type(b"hello, world\n"), "text/plain");
        assert_eq!(content_type(b"  <!DOCTYPE html><html></html>"), "text/html");
        assert_eq!(content_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "image/svg+xml");
        assert_eq!(content_type(b"#!/bin/sh\nrm -rf /\n"), "text/x-shellscript");
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec();
        elf.resize(64, 0);
        assert_eq!(content_type(&elf), "application/x-executable");
        assert_eq!(content_type(&[0xff, 0x00, 0x13, 0x37]), "application/octet-stream");
    }

    #[test]
    fn kinds_and_inline_rules() {
        assert_eq!(kind("image/jpeg", false), AttachmentKind::Image);
        assert_eq!(kind("audio/ogg", true), AttachmentKind::Voice);
        assert_eq!(kind("audio/ogg", false), AttachmentKind::Audio);
        assert_eq!(kind("image/svg+xml", false), AttachmentKind::File);
        assert!(!inline("text/html") && !inline("image/svg+xml") && inline("image/png"));
    }
}
