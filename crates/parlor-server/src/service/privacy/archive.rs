//! What a data export holds, and the zip it is written to (docs/privacy.md §5). Everything is
//! read as the person would read it through the API: their conversations (former ones as they
//! were when they left), the messages they may read in each, as `service/conversations/former.rs` shows them,
//! and only the files they sent themselves. The archive is written to a scratch file, counting
//! every byte before compression against `privacy.export_max_bytes`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use parlor_core::{ConversationId, ConversationOverview, Message, Seq, Timestamp, User, UserId};
use parlor_protocol::{ConversationView, MessageView, NotificationSettingsView};
use parlor_store::{ConversationFilter, ListPosition};
use serde::Serialize;
use serde_json::json;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::Privacy;
use crate::error::ApiError;

/// Conversations and messages read per query while walking them.
const PAGE: u32 = 500;

/// Why an archive was not made. `TooLarge` is the person's to know; the rest is logged.
#[derive(Debug, thiserror::Error)]
pub(super) enum BuildError {
    #[error("the archive would be larger than privacy.export_max_bytes")]
    TooLarge,
    #[error("reading the data failed: {}", .0.message)]
    Read(ApiError),
    #[error("blob storage failed: {0}")]
    Blob(String),
    #[error("writing the archive failed: {0}")]
    Write(String),
}

impl From<ApiError> for BuildError {
    fn from(e: ApiError) -> Self {
        Self::Read(e)
    }
}

impl From<parlor_store::StoreError> for BuildError {
    fn from(e: parlor_store::StoreError) -> Self {
        Self::Read(e.into())
    }
}

/// A zip being written to a scratch file, its content counted against a bound.
struct Archive {
    /// `None` only while a blocking write has it.
    zip: Option<ZipWriter<File>>,
    path: PathBuf,
    written: u64,
    max: u64,
}

impl Archive {
    async fn create(path: PathBuf, max: u64) -> Result<Self, BuildError> {
        let at = path.clone();
        let file = tokio::task::spawn_blocking(move || {
            if let Some(dir) = at.parent() {
                std::fs::create_dir_all(dir)?;
            }
            File::create(&at)
        })
        .await
        .map_err(|e| BuildError::Write(e.to_string()))?
        .map_err(|e| BuildError::Write(e.to_string()))?;
        Ok(Self { zip: Some(ZipWriter::new(file)), path, written: 0, max })
    }

    /// Counts `n` more bytes; past the bound the export fails rather than fill the disk.
    fn count(&mut self, n: u64) -> Result<(), BuildError> {
        self.written = self.written.saturating_add(n);
        if self.written > self.max { Err(BuildError::TooLarge) } else { Ok(()) }
    }

    /// Runs a write on the zip off the async threads (it is a file on disk).
    async fn blocking<T: Send + 'static>(
        &mut self,
        write: impl FnOnce(&mut ZipWriter<File>) -> Result<T, String> + Send + 'static,
    ) -> Result<T, BuildError> {
        let mut zip = self.zip.take().ok_or_else(|| BuildError::Write("archive already closed".into()))?;
        let (zip, out) = tokio::task::spawn_blocking(move || {
            let out = write(&mut zip);
            (zip, out)
        })
        .await
        .map_err(|e| BuildError::Write(e.to_string()))?;
        self.zip = Some(zip);
        out.map_err(BuildError::Write)
    }

    /// A JSON file, pretty-printed and deflated.
    async fn json(&mut self, name: &str, value: &impl Serialize) -> Result<(), BuildError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| BuildError::Write(e.to_string()))?;
        self.bytes(name, bytes, CompressionMethod::Deflated).await
    }

    async fn bytes(&mut self, name: &str, bytes: Vec<u8>, method: CompressionMethod) -> Result<(), BuildError> {
        self.count(bytes.len() as u64)?;
        let name = name.to_owned();
        self.blocking(move |zip| {
            let options = SimpleFileOptions::default().compression_method(method).large_file(true);
            zip.start_file(name, options).map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())
        })
        .await
    }

    /// Closes the zip; returns its size in bytes.
    async fn finish(mut self) -> Result<(PathBuf, u64), BuildError> {
        let zip = self.zip.take().ok_or_else(|| BuildError::Write("archive already closed".into()))?;
        let size = tokio::task::spawn_blocking(move || {
            let file = zip.finish().map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())?;
            file.metadata().map(|m| m.len()).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| BuildError::Write(e.to_string()))?
        .map_err(BuildError::Write)?;
        Ok((self.path.clone(), size))
    }
}

/// One of the person's reactions, in `reactions.json`.
#[derive(Serialize)]
struct OwnReaction {
    conversation_id: ConversationId,
    message_id: parlor_core::MessageId,
    emoji: String,
}

/// One file they sent, in `attachments.json`, and where it is in the archive.
#[derive(Serialize)]
struct OwnFile {
    id: parlor_core::AttachmentId,
    conversation_id: ConversationId,
    message_id: parlor_core::MessageId,
    name: String,
    content_type: String,
    size: i64,
    path: String,
}

/// What the walk over the conversations gathered besides the messages themselves.
#[derive(Default)]
struct Gathered {
    conversations: Vec<ConversationView>,
    receipts: Vec<serde_json::Value>,
    reactions: Vec<OwnReaction>,
    files: Vec<OwnFile>,
}

const README: &str = "\
Your data from parlor.

profile.json                 your account
notification_settings.json   how you are reached while away
conversations.json           your conversations (those you left, as they were when you left)
messages/<conversation>.json the messages you can read in each, oldest first
reactions.json               your reactions
receipts.json                how far you have read and received in each conversation
attachments.json             the files you sent, and where each is in this archive
attachments/                 the files themselves

Files others sent are listed in the messages (name, type, size) but not included.
";

impl Privacy {
    /// Writes the person's archive to a scratch file; returns where and its size.
    pub(super) async fn build_archive(&self, export_id: i64, user: &User) -> Result<(PathBuf, u64), BuildError> {
        let path = self.exports.scratch.join(format!("{export_id}.zip"));
        let mut archive = Archive::create(path, self.exports.max_bytes).await?;
        archive.bytes("README.txt", README.as_bytes().to_vec(), CompressionMethod::Deflated).await?;
        let profile = json!({
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar": user.avatar,
            "email": user.email,
            "external_id": user.external_id,
            "created_at": user.created_at,
            "last_seen_at": user.last_seen_at,
            "hide_last_seen": user.hide_last_seen,
            "exported_at": Timestamp::now(),
        });
        archive.json("profile.json", &profile).await?;
        let settings = self.store.notification_settings(user.id).await?;
        archive.json("notification_settings.json", &NotificationSettingsView::from(&settings)).await?;

        let mut gathered = Gathered::default();
        for overview in self.all_conversations(user.id).await? {
            self.conversation_into(&mut archive, &mut gathered, user.id, overview).await?;
        }
        archive.json("conversations.json", &gathered.conversations).await?;
        archive.json("receipts.json", &gathered.receipts).await?;
        archive.json("reactions.json", &gathered.reactions).await?;
        archive.json("attachments.json", &gathered.files).await?;
        archive.finish().await
    }

    /// Every conversation the person is or was in, as they see it.
    async fn all_conversations(&self, me: UserId) -> Result<Vec<ConversationOverview>, BuildError> {
        let mut all = Vec::new();
        let mut after: Option<ListPosition> = None;
        loop {
            let filter = ConversationFilter { context_type: None, context_id: None, after, limit: PAGE };
            let page = self.store.list_overviews(me, &filter).await?;
            let full = page.len() == PAGE as usize;
            after = page
                .last()
                .map(|o| ListPosition { last_activity_at: o.conversation.last_activity_at, id: o.conversation.id });
            for mut overview in page {
                self.conversations.overview_as_seen(&mut overview).await?;
                all.push(overview);
            }
            if !full {
                return Ok(all);
            }
        }
    }

    /// One conversation: its messages file, and its entries in the other files.
    async fn conversation_into(
        &self,
        archive: &mut Archive,
        gathered: &mut Gathered,
        me: UserId,
        overview: ConversationOverview,
    ) -> Result<(), BuildError> {
        let id = overview.conversation.id;
        let membership = &overview.membership;
        let delivered = overview.members.iter().find(|m| m.user.id == me).map(|m| m.delivered_seq);
        gathered.receipts.push(json!({
            "conversation_id": id,
            "last_read_seq": overview.last_read_seq,
            "delivered_seq": delivered,
        }));
        // The messages file is written as it is read, a page at a time, counted as it grows.
        let mut file: Vec<u8> = b"[".to_vec();
        let mut after = Seq(0);
        let mut first = true;
        loop {
            let mut page = self.store.messages_after(id, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            if let Some(cutoff) = membership.message_cutoff() {
                page.retain(|m| m.seq <= cutoff);
            }
            let Some(last) = page.last() else { break };
            after = last.seq;
            self.conversations.as_they_were(membership, id, &mut page).await?;
            for message in &page {
                let before = file.len();
                file.extend_from_slice(if std::mem::take(&mut first) { b"\n" } else { b",\n" });
                serde_json::to_writer(&mut file, &MessageView::from(message))
                    .map_err(|e| BuildError::Write(e.to_string()))?;
                archive.count((file.len() - before) as u64)?;
                own_reactions(me, message, &mut gathered.reactions);
                if message.sender_id == me {
                    self.own_file(archive, message, &mut gathered.files).await?;
                }
            }
            if !full {
                break;
            }
        }
        file.extend_from_slice(b"\n]\n");
        // Counted already, message by message.
        archive.written = archive.written.saturating_sub(file.len() as u64);
        archive.bytes(&format!("messages/{id}.json"), file, CompressionMethod::Deflated).await?;
        gathered.conversations.push(ConversationView::from(&overview));
        Ok(())
    }

    /// The file of a message the person sent, when it is still there.
    async fn own_file(
        &self,
        archive: &mut Archive,
        message: &Message,
        files: &mut Vec<OwnFile>,
    ) -> Result<(), BuildError> {
        let Some(attachment) = message.attachment.as_ref().filter(|a| !a.expired) else { return Ok(()) };
        if message.deleted_at.is_some() {
            return Ok(());
        }
        let Some(stored) = self.store.attachment(attachment.id).await? else { return Ok(()) };
        let path = format!("attachments/{}-{}", attachment.id, attachment.file_name);
        archive.count(u64::try_from(attachment.size).unwrap_or_default())?;
        let download = match self.blobs.get(&stored.blob_key, None).await {
            Ok(download) => download,
            // Removed since (retention, a delete racing the export): nothing to copy.
            Err(crate::blob::BlobError::NotFound) => return Ok(()),
            Err(e) => return Err(BuildError::Blob(e.to_string())),
        };
        let name = path.clone();
        archive
            .blocking(move |zip| {
                // Files are mostly compressed already (images, video, PDF): stored as they are.
                let options =
                    SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(true);
                zip.start_file(name, options).map_err(|e| e.to_string())
            })
            .await?;
        let mut body = download.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BuildError::Blob(e.to_string()))?;
            archive.blocking(move |zip| zip.write_all(&chunk).map_err(|e| e.to_string())).await?;
        }
        files.push(OwnFile {
            id: attachment.id,
            conversation_id: message.conversation_id,
            message_id: message.id,
            name: attachment.file_name.clone(),
            content_type: attachment.content_type.clone(),
            size: attachment.size,
            path,
        });
        Ok(())
    }

    /// Removes a scratch file (built, uploaded or abandoned).
    pub(super) async fn discard_scratch(path: &Path) {
        if let Err(e) = tokio::fs::remove_file(path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, path = %path.display(), "export scratch file not removed");
        }
    }
}

fn own_reactions(me: UserId, message: &Message, into: &mut Vec<OwnReaction>) {
    for reaction in &message.reactions {
        if reaction.user_ids.contains(&me) {
            into.push(OwnReaction {
                conversation_id: message.conversation_id,
                message_id: message.id,
                emoji: reaction.emoji.clone(),
            });
        }
    }
}
