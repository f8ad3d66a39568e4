//! `Attachments`: receiving a file as it streams in, checking what it really is, making its
//! thumbnail, storing it as a message, deciding who may download it, and removing the files of
//! deleted and expired messages. It owns blob storage as far as attachments go.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use parlor_core::{
    AttachmentId, ClientId, ConversationId, MessageBody, MessageId, NewAttachment, NewMessage, StoredAttachment,
    Timestamp, User, UserId, sanitize_file_name,
};
use parlor_protocol::ErrorCode;
use parlor_store::{Appended, Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{Conversations, Notifications, Reach};
use crate::blob::{Blobs, Upload, sniff, thumbnail};
use crate::bus::Hub;
use crate::config::AttachmentLimits;
use crate::error::{ApiError, ApiResult, Kind};

/// A file that is in blob storage but not yet part of a message.
pub struct ReceivedFile {
    key: String,
    size: u64,
    sha256: String,
    content_type: String,
    file_name: String,
}

#[derive(Clone)]
pub struct Attachments {
    store: Arc<dyn Store>,
    hub: Hub,
    blobs: Blobs,
    files: Arc<AttachmentLimits>,
    /// Images decoded at once (`attachments.image_decodes`): each holds up to
    /// `attachments.max_image_bytes` of pixels, so this bounds their memory; the rest queue.
    thumbnail_permits: Arc<Semaphore>,
    conversations: Conversations,
    reach: Reach,
    /// An attachment's message is notified about like any other.
    notifications: Notifications,
    /// `limits.max_message_chars`, for captions.
    max_caption_chars: usize,
}

impl Attachments {
    #[expect(clippy::too_many_arguments, reason = "each dependency named at its one call, in `Server::bind`")]
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        blobs: Blobs,
        files: &AttachmentLimits,
        conversations: Conversations,
        reach: Reach,
        notifications: Notifications,
        max_caption_chars: usize,
    ) -> Self {
        Self {
            store,
            hub,
            blobs,
            files: Arc::new(files.clone()),
            thumbnail_permits: Arc::new(Semaphore::new(files.image_decodes)),
            conversations,
            reach,
            notifications,
            max_caption_chars,
        }
    }

    /// Streams an upload into blob storage, checking its type from the first bytes and its size
    /// as it goes; a refused or failed upload leaves nothing behind.
    pub async fn receive_file<S>(
        &self,
        id: ConversationId,
        file_name: Option<&str>,
        mut chunks: S,
    ) -> ApiResult<ReceivedFile>
    where
        S: Stream<Item = ApiResult<Bytes>> + Unpin,
    {
        let max = self.files.max_upload_bytes;
        let mut head = Vec::with_capacity(sniff::SNIFF_BYTES);
        let mut rest: Option<Bytes> = None;
        while head.len() < sniff::SNIFF_BYTES {
            match chunks.next().await.transpose()? {
                Some(chunk) => {
                    let room = sniff::SNIFF_BYTES - head.len();
                    head.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        rest = Some(chunk.slice(room..));
                    }
                }
                None => break,
            }
        }
        if head.is_empty() {
            return Err(ApiError::bad_request(ErrorCode::ValidationFailed, "file: the file is empty"));
        }
        let content_type = sniff::content_type(&head);
        self.check_type(&content_type)?;

        let key = format!("attachments/{}/{}", id, random_name());
        let mut upload = self.blobs.begin(&key).await.map_err(blob_failed)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let outcome = async {
            for chunk in std::iter::once(Bytes::from(head)).chain(rest) {
                write(&mut upload, &mut hasher, &mut size, &chunk, max).await?;
            }
            while let Some(chunk) = chunks.next().await.transpose()? {
                write(&mut upload, &mut hasher, &mut size, &chunk, max).await?;
            }
            Ok::<_, ApiError>(())
        }
        .await;
        if let Err(e) = outcome {
            upload.abort().await;
            return Err(e);
        }
        upload.finish().await.map_err(blob_failed)?;
        let file_name = sanitize_file_name(file_name.unwrap_or_default());
        Ok(ReceivedFile { key, size, sha256: hex(&hasher.finalize()), content_type, file_name })
    }

    fn check_type(&self, content_type: &str) -> ApiResult<()> {
        let unsupported = |why: String| ApiError::new(Kind::UnsupportedMedia, ErrorCode::UnsupportedMediaType, why);
        if sniff::is_executable(content_type) {
            return Err(unsupported(format!("executables and scripts cannot be sent (this file is {content_type})")));
        }
        if !self.files.allowed_types.iter().any(|t| t == content_type) {
            return Err(unsupported(format!("files of type {content_type} cannot be sent")));
        }
        Ok(())
    }

    /// Makes a stored file a message: thumbnail for images, then the message itself, which is
    /// fanned out like any other. Duplicate `client_id`s and failures remove the new file again.
    pub async fn send_attachment(
        &self,
        sender: &User,
        id: ConversationId,
        file: ReceivedFile,
        caption: Option<String>,
        client_id: Option<String>,
        voice: bool,
    ) -> ApiResult<Appended> {
        match self.store_attachment(sender, id, &file, caption, client_id, voice).await {
            Ok((appended, thumbnail_key)) if appended.duplicate => {
                self.discard(&file.key, thumbnail_key.as_deref()).await;
                Ok(appended)
            }
            Ok((appended, _)) => {
                self.hub.publish(&appended.event).await;
                if let Some(message) = appended.message() {
                    self.notifications.after_message(message);
                }
                Ok(appended)
            }
            Err((e, thumbnail_key)) => {
                self.discard(&file.key, thumbnail_key.as_deref()).await;
                Err(e)
            }
        }
    }

    async fn store_attachment(
        &self,
        sender: &User,
        id: ConversationId,
        file: &ReceivedFile,
        caption: Option<String>,
        client_id: Option<String>,
        voice: bool,
    ) -> Result<(Appended, Option<String>), (ApiError, Option<String>)> {
        let body =
            MessageBody::caption(caption.unwrap_or_default(), self.max_caption_chars).map_err(|e| (e.into(), None))?;
        let client_id = client_id.as_deref().map(ClientId::parse).transpose().map_err(|e| (e.into(), None))?;
        self.conversations.ensure_member(sender.id, id).await.map_err(|e| (e, None))?;
        self.reach.check_can_write(sender.id, id).await.map_err(|e| (e, None))?;
        let mut kind = sniff::kind(&file.content_type, voice);
        let (mut width, mut height, mut thumbnail_key) = (None, None, None);
        if sniff::thumbnailable(&file.content_type) {
            match self.thumbnail(&file.key).await {
                Ok(Some((thumb, key))) => {
                    (width, height, thumbnail_key) =
                        (Some(i64::from(thumb.width)), Some(i64::from(thumb.height)), Some(key));
                }
                // Claims to be an image but does not decode: keep it as a plain file.
                Ok(None) => kind = parlor_core::AttachmentKind::File,
                Err(e) => return Err((e, None)),
            }
        }
        let attachment = NewAttachment {
            kind,
            file_name: file.file_name.clone(),
            content_type: file.content_type.clone(),
            size: i64::try_from(file.size).unwrap_or(i64::MAX),
            width,
            height,
            blob_key: file.key.clone(),
            thumbnail_key: thumbnail_key.clone(),
            sha256: file.sha256.clone(),
        };
        let new = NewMessage {
            conversation_id: id,
            sender_id: sender.id,
            body,
            reply_to: None,
            client_id,
            forwarded: false,
            attachment: Some(attachment),
        };
        match self.store.append_message(new).await {
            Ok(appended) => Ok((appended, thumbnail_key)),
            Err(StoreError::NotFound) => Err((ApiError::not_found("conversation"), thumbnail_key)),
            Err(e) => Err((e.into(), thumbnail_key)),
        }
    }

    /// `Ok(None)` when the image does not decode; an error when it is refused (too large).
    async fn thumbnail(&self, key: &str) -> ApiResult<Option<(thumbnail::Thumbnail, String)>> {
        // The permit bounds how many images are in memory at once, not only how many decode.
        let permit = self.thumbnail_permits.clone().acquire_owned().await.map_err(|_| ApiError::internal())?;
        let bytes = self.blobs.read_all(key, self.files.max_upload_bytes).await.map_err(blob_failed)?;
        let budget =
            thumbnail::Budget { max_pixels: self.files.max_image_pixels, max_bytes: self.files.max_image_bytes };
        let size = self.files.thumbnail_size;
        let made = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            thumbnail::make(&bytes, budget, size)
        })
        .await
        .map_err(|_| ApiError::internal())?;
        match made {
            Ok(thumb) => {
                let thumb_key = format!("{key}.thumb.{}", thumb.extension);
                self.blobs.put(&thumb_key, Bytes::from(thumb.bytes.clone())).await.map_err(blob_failed)?;
                Ok(Some((thumb, thumb_key)))
            }
            Err(thumbnail::ThumbnailError::TooLarge { width, height, max }) => Err(ApiError::new(
                Kind::Unprocessable,
                ErrorCode::ImageTooLarge,
                format!("image is {width}x{height} pixels; the limit is {max} pixels"),
            )),
            Err(too_many @ thumbnail::ThumbnailError::TooManyBytes { .. }) => {
                Err(ApiError::new(Kind::Unprocessable, ErrorCode::ImageTooLarge, too_many.to_string()))
            }
            Err(thumbnail::ThumbnailError::Undecodable(why)) => {
                tracing::info!(reason = %why, "image did not decode; stored as a file");
                Ok(None)
            }
        }
    }

    async fn discard(&self, key: &str, thumbnail_key: Option<&str>) {
        self.blobs.delete(key).await;
        if let Some(thumb) = thumbnail_key {
            self.blobs.delete(thumb).await;
        }
    }

    /// An attachment the caller may download: same 404 for missing, not theirs, deleted, expired.
    pub async fn attachment_for(&self, me: UserId, id: AttachmentId) -> ApiResult<StoredAttachment> {
        let stored = self.store.attachment(id).await?.ok_or_else(|| ApiError::not_found("attachment"))?;
        self.readable(me, stored).await
    }

    /// The attachment of a message, for seed 002's download path.
    pub async fn attachment_of(&self, me: UserId, message: MessageId) -> ApiResult<StoredAttachment> {
        let stored =
            self.store.attachment_of_message(message).await?.ok_or_else(|| ApiError::not_found("attachment"))?;
        self.readable(me, stored).await
    }

    async fn readable(&self, me: UserId, stored: StoredAttachment) -> ApiResult<StoredAttachment> {
        // Reading the message applies membership and a former member's cut-off.
        self.conversations.message(me, stored.message_id).await.map_err(|_| ApiError::not_found("attachment"))?;
        if stored.attachment.expired {
            return Err(ApiError::not_found("attachment"));
        }
        Ok(stored)
    }

    /// Forgets a file that will not become a message.
    pub async fn discard_received(&self, file: ReceivedFile) {
        self.blobs.delete(&file.key).await;
    }

    pub async fn blob_size(&self, key: &str) -> Result<u64, crate::blob::BlobError> {
        self.blobs.size(key).await
    }

    pub async fn blob(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<crate::blob::Download, crate::blob::BlobError> {
        self.blobs.get(key, range).await
    }

    /// Removes the files of a message being deleted (after the store forgot them).
    pub(super) async fn remove_files(&self, stored: &StoredAttachment) {
        self.discard(&stored.blob_key, stored.thumbnail_key.as_deref()).await;
    }

    /// Expires attachments older than the retention period; returns how many.
    pub async fn sweep_expired(&self) -> usize {
        if self.files.retention_days <= 0.0 {
            return 0;
        }
        let age_ms = (self.files.retention_days * 86_400_000.0) as i64;
        let before = Timestamp::from_millis(Timestamp::now().as_millis().saturating_sub(age_ms));
        let mut removed = 0;
        loop {
            let batch = match self.store.expire_attachments(before, 100).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "attachment retention sweep failed");
                    return removed;
                }
            };
            for stored in &batch {
                self.remove_files(stored).await;
            }
            removed += batch.len();
            if batch.len() < 100 {
                return removed;
            }
        }
    }
}

async fn write(upload: &mut Upload, hasher: &mut Sha256, size: &mut u64, chunk: &[u8], max: u64) -> ApiResult<()> {
    *size += chunk.len() as u64;
    if *size > max {
        return Err(ApiError::new(
            Kind::TooLarge,
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than the limit of {max} bytes"),
        ));
    }
    hasher.update(chunk);
    upload.write(chunk).await.map_err(blob_failed)
}

fn blob_failed(e: crate::blob::BlobError) -> ApiError {
    if e.is_storage_full() {
        tracing::error!(error = %e, "the disk is full; an upload was refused");
        return ApiError::insufficient_storage();
    }
    tracing::error!(error = %e, "blob storage failure");
    ApiError::internal()
}

fn random_name() -> String {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    hex(&raw)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
