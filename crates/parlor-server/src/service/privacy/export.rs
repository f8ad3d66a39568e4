//! Self-service data exports (docs/privacy.md §5): a person asks (`POST /api/users/me/export`),
//! within the bounds (one at a time, `privacy.export_per_day`); a worker on every node claims
//! waiting exports from the store, builds each archive (`archive.rs`), puts it in blob storage
//! and tells its owner with an `export_ready` notification; archives past
//! `privacy.export_expiry_hours` are deleted. The job's state is the store's: a node that stops
//! mid-run leaves a claim that runs out after `privacy.export_timeout_secs`, and another run
//! takes the export over (twice at most, then it fails as `interrupted`).

use std::time::Duration;

use parlor_core::{NewNotification, NotificationKind, Timestamp, UserId};
use parlor_protocol::ErrorCode;
use parlor_store::{ExportJob, ExportOutcome, ExportQuota, ExportStatus, StoreError};
use tokio_util::sync::CancellationToken;

use super::Privacy;
use super::archive::BuildError;
use crate::blob::Download;
use crate::error::{ApiError, ApiResult, Kind};

/// Runs an export gets before it fails as `interrupted` (each cut short by a stopped node).
const MAX_ATTEMPTS: u32 = 2;
/// Failed and expired exports are forgotten this long after they were requested (they count
/// against the daily bound until then).
const FORGET_AFTER: Duration = Duration::from_secs(7 * 86_400);
/// Exports listed at most, newest first.
const LIST_MAX: u32 = 50;
/// Archives expired per sweep transaction.
const EXPIRE_BATCH: u32 = 100;
const DAY: Duration = Duration::from_secs(86_400);

fn before(now: Timestamp, span: Duration) -> Timestamp {
    Timestamp::from_millis(now.as_millis().saturating_sub(i64::try_from(span.as_millis()).unwrap_or(i64::MAX)))
}

fn after(now: Timestamp, span: Duration) -> Timestamp {
    Timestamp::from_millis(now.as_millis().saturating_add(i64::try_from(span.as_millis()).unwrap_or(i64::MAX)))
}

impl Privacy {
    /// Asks for an export of the caller's data. 429 while one of theirs is in progress, or
    /// once they asked `privacy.export_per_day` times in 24 hours.
    pub async fn request_export(&self, me: UserId) -> ApiResult<ExportJob> {
        let now = Timestamp::now();
        let quota = ExportQuota { since: before(now, DAY), max: self.exports.per_day };
        match self.store.request_export(me, now, quota).await {
            Ok(job) => {
                tracing::info!(user_id = %me, export_id = job.id, "data export requested");
                self.export_requested.notify_one();
                Ok(job)
            }
            Err(StoreError::Conflict("export")) => {
                let mut refused = ApiError::new(
                    Kind::RateLimited,
                    ErrorCode::RateLimited,
                    "an export of your data is already being prepared; you will be notified when it is ready",
                );
                refused.retry_after = Some(60);
                Err(refused)
            }
            Err(StoreError::Rule("export_quota")) => {
                let per_day = self.exports.per_day;
                let mut refused = ApiError::new(
                    Kind::RateLimited,
                    ErrorCode::RateLimited,
                    format!("you can ask for at most {per_day} exports in 24 hours; try again later"),
                );
                // The oldest request still counted stops counting 24 hours after it was made.
                let recent = self.store.exports(me, per_day).await?;
                refused.retry_after = recent.last().map(|oldest| {
                    let frees = after(oldest.created_at, DAY).as_millis();
                    u64::try_from((frees - now.as_millis()).max(0) / 1000 + 1).unwrap_or(1)
                });
                Err(refused)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The caller's exports, newest first.
    pub async fn exports(&self, me: UserId) -> ApiResult<Vec<ExportJob>> {
        Ok(self.store.exports(me, LIST_MAX).await?)
    }

    /// One of the caller's exports; the same 404 for someone else's.
    pub async fn export(&self, me: UserId, id: i64) -> ApiResult<ExportJob> {
        match self.store.export(id).await? {
            Some(job) if job.user_id == me => Ok(job),
            _ => Err(ApiError::not_found("export")),
        }
    }

    /// The archive of one of the caller's ready exports, streamed; 404 for anyone else's, and
    /// for one not ready (or expired).
    pub async fn export_download(&self, me: UserId, id: i64) -> ApiResult<(ExportJob, Download)> {
        let job = self.export(me, id).await?;
        let key = match (&job.status, &job.blob_key) {
            (ExportStatus::Ready, Some(key)) => key.clone(),
            _ => return Err(ApiError::not_found("export")),
        };
        let download = self.blobs.get(&key, None).await.map_err(|e| match e {
            crate::blob::BlobError::NotFound => ApiError::not_found("export"),
            other => {
                tracing::error!(error = %other, export_id = id, "export archive unreadable");
                ApiError::internal()
            }
        })?;
        Ok((job, download))
    }

    /// Builds waiting exports one at a time and expires old archives, until shutdown. Woken
    /// by requests on this node; looks for others' (one whose node stopped) and for archives
    /// past their time every `privacy.export_sweep_secs`.
    pub async fn run_exports(self, shutdown: CancellationToken) {
        self.clear_scratch().await;
        loop {
            while !shutdown.is_cancelled() {
                let now = Timestamp::now();
                let lease = after(now, self.exports.timeout);
                let job = match self.store.claim_export(now, lease, MAX_ATTEMPTS).await {
                    Ok(Some(job)) => job,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "exports not claimed");
                        break;
                    }
                };
                tokio::select! {
                    // Left running: its claim runs out and a later run takes it over.
                    _ = shutdown.cancelled() => return,
                    _ = self.run_export(&job) => {}
                }
            }
            self.expire_exports().await;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.export_requested.notified() => {}
                _ = tokio::time::sleep(self.exports.sweep) => {}
            }
        }
    }

    /// One run: build, store, record, tell. Never longer than `privacy.export_timeout_secs`.
    async fn run_export(&self, job: &ExportJob) {
        let started = std::time::Instant::now();
        let outcome = match tokio::time::timeout(self.exports.timeout, self.make_archive(job)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(BuildError::TooLarge)) => ExportOutcome::Failed { error: "too_large".into() },
            Ok(Err(e)) => {
                tracing::error!(error = %e, export_id = job.id, user_id = %job.user_id, "data export failed");
                ExportOutcome::Failed { error: "failed".into() }
            }
            Err(_) => ExportOutcome::Failed { error: "timeout".into() },
        };
        match self.store.finish_export(job.id, Timestamp::now(), &outcome).await {
            Ok(()) => {}
            Err(e) => {
                // Erased with its owner meanwhile, or taken over: its archive is no one's.
                if let ExportOutcome::Ready { blob_key, .. } = &outcome {
                    self.blobs.delete(blob_key).await;
                }
                tracing::warn!(error = %e, export_id = job.id, "export outcome not recorded");
                return;
            }
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            ExportOutcome::Ready { size_bytes, .. } => {
                tracing::info!(export_id = job.id, user_id = %job.user_id, size_bytes, elapsed_ms, "data export ready");
                let ready = NewNotification {
                    user_id: job.user_id,
                    kind: NotificationKind::ExportReady,
                    conversation_id: None,
                    message_id: None,
                    actor_id: None,
                    contact_id: None,
                };
                if let Err(e) = self.notifications.deliver_notifications(&[ready]).await {
                    tracing::warn!(error = %e.message, export_id = job.id, "export_ready notification not made");
                }
            }
            ExportOutcome::Failed { error } => {
                tracing::warn!(export_id = job.id, user_id = %job.user_id, error, elapsed_ms, "data export failed");
            }
        }
    }

    /// Builds the archive and puts it in blob storage.
    async fn make_archive(&self, job: &ExportJob) -> Result<ExportOutcome, BuildError> {
        let user = self.store.user(job.user_id).await?.ok_or(BuildError::Read(ApiError::not_found("user")))?;
        let built = self.build_archive(job.id, &user).await;
        let path = self.exports.scratch.join(format!("{}.zip", job.id));
        let outcome = match built {
            Ok((path, size_bytes)) => {
                let blob_key = format!("exports/{}-{:016x}.zip", job.id, rand::random::<u64>());
                self.upload(&path, &blob_key).await.map(|()| ExportOutcome::Ready {
                    blob_key,
                    size_bytes,
                    expires_at: after(Timestamp::now(), self.exports.expiry),
                })
            }
            Err(e) => Err(e),
        };
        Self::discard_scratch(&path).await;
        outcome
    }

    /// Streams the scratch file into blob storage (S3 too), aborting cleanly on failure.
    async fn upload(&self, path: &std::path::Path, key: &str) -> Result<(), BuildError> {
        use tokio::io::AsyncReadExt;
        let blob = |e: crate::blob::BlobError| BuildError::Blob(e.to_string());
        let mut file = tokio::fs::File::open(path).await.map_err(|e| BuildError::Write(e.to_string()))?;
        let mut upload = self.blobs.begin(key).await.map_err(blob)?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = match file.read(&mut buffer).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    upload.abort().await;
                    return Err(BuildError::Write(e.to_string()));
                }
            };
            if let Err(e) = upload.write(&buffer[..n]).await {
                upload.abort().await;
                return Err(blob(e));
            }
        }
        upload.finish().await.map_err(blob)
    }

    /// Deletes archives past their time, and forgets old failed and expired exports.
    pub async fn expire_exports(&self) {
        loop {
            let now = Timestamp::now();
            let expired = match self.store.expire_exports(now, before(now, FORGET_AFTER), EXPIRE_BATCH).await {
                Ok(expired) => expired,
                Err(e) => {
                    tracing::warn!(error = %e, "export expiry failed");
                    return;
                }
            };
            for key in expired.iter().filter_map(|job| job.blob_key.as_deref()) {
                self.blobs.delete(key).await;
            }
            if !expired.is_empty() {
                tracing::info!(expired = expired.len(), "export archives past their time deleted");
            }
            if expired.len() < EXPIRE_BATCH as usize {
                return;
            }
        }
    }

    /// Scratch files left by a run this node did not finish (it stopped); their exports are
    /// taken over and written again.
    async fn clear_scratch(&self) {
        let Ok(mut dir) = tokio::fs::read_dir(&self.exports.scratch).await else { return };
        while let Ok(Some(entry)) = dir.next_entry().await {
            Self::discard_scratch(&entry.path()).await;
        }
    }
}
