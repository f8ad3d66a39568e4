//! Blob storage for attachment bytes: local disk under the data dir by default, or any object
//! store (`s3://bucket/prefix`, S3-compatible) through the `object_store` crate. Uploads stream
//! in parts and are aborted, leaving nothing behind, when they fail; downloads stream ranges.
//!
//! **Invariant:** the rest of the server never touches files directly, so a node never serves
//! a file only it has when storage is shared.

pub mod sniff;
pub mod thumbnail;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};

/// Parts are written as an upload arrives: S3 needs at least 5 MiB per part; local disk takes
/// small parts, so an upload holds little memory.
const S3_PART_SIZE: usize = 5 * 1024 * 1024;
const DISK_PART_SIZE: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    #[error("blob storage failed: {0}")]
    Store(#[from] object_store::Error),
    #[error("blob storage misconfigured: {0}")]
    Config(String),
}

impl BlobError {
    /// The local disk ran out of space (`ENOSPC`), somewhere down the error's source chain.
    pub fn is_storage_full(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull) {
                return true;
            }
            source = e.source();
        }
        false
    }
}

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    part_size: usize,
}

/// A stream of a blob's bytes (possibly a range of it) and the blob's full size.
pub struct Download {
    pub body: BoxStream<'static, Result<Bytes, object_store::Error>>,
    pub total_size: u64,
    pub range: Range<u64>,
}

/// An upload in progress; call [`Upload::finish`] or [`Upload::abort`].
pub struct Upload {
    writer: WriteMultipart,
}

impl Upload {
    /// Queues bytes, waiting while too many parts are in flight (backpressure, bounded memory).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.writer.wait_for_capacity(2).await?;
        self.writer.write(chunk);
        Ok(())
    }

    pub async fn finish(self) -> Result<(), BlobError> {
        self.writer.finish().await?;
        Ok(())
    }

    /// Discards everything written so far.
    pub async fn abort(self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, "aborting an upload failed; parts may be left in storage");
        }
    }
}

impl Blobs {
    /// `url` empty: a `files/` directory under `data_dir`. Otherwise `s3://bucket[/prefix]`,
    /// configured from the standard `AWS_*` environment variables.
    pub fn open(url: &str, data_dir: &Path) -> Result<Self, BlobError> {
        if url.is_empty() {
            let dir = data_dir.join("files");
            std::fs::create_dir_all(&dir).map_err(|e| BlobError::Config(format!("{}: {e}", dir.display())))?;
            return Ok(Self { store: Arc::new(LocalFileSystem::new_with_prefix(&dir)?), part_size: DISK_PART_SIZE });
        }
        if let Some(dir) = url.strip_prefix("file://") {
            // A directory every node mounts (NFS and the like).
            std::fs::create_dir_all(dir).map_err(|e| BlobError::Config(format!("{dir}: {e}")))?;
            return Ok(Self { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?), part_size: DISK_PART_SIZE });
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(BlobError::Config(format!(
                "storage_url {url:?}: expected empty, s3://bucket/prefix or file:///shared/dir"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
        let store: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
            "" => Arc::new(s3),
            prefix => Arc::new(PrefixStore::new(s3, prefix)),
        };
        Ok(Self { store, part_size: S3_PART_SIZE })
    }

    pub async fn begin(&self, key: &str) -> Result<Upload, BlobError> {
        let upload = self.store.put_multipart(&Key::from(key)).await?;
        Ok(Upload { writer: WriteMultipart::new_with_chunk_size(upload, self.part_size) })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(&Key::from(key), bytes.into()).await?;
        Ok(())
    }

    /// The whole blob, refusing one larger than `max` bytes.
    pub async fn read_all(&self, key: &str, max: u64) -> Result<Bytes, BlobError> {
        let found = self.store.get(&Key::from(key)).await.map_err(not_found)?;
        if found.meta.size > max {
            return Err(BlobError::Config(format!("blob {key} is larger than {max} bytes")));
        }
        Ok(found.bytes().await?)
    }

    /// The blob's size, for answering a range request before fetching.
    pub async fn size(&self, key: &str) -> Result<u64, BlobError> {
        Ok(self.store.head(&Key::from(key)).await.map_err(not_found)?.size)
    }

    /// Streams the blob, or the given range of it.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Download, BlobError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let found = self.store.get_opts(&Key::from(key), options).await.map_err(not_found)?;
        let total_size = found.meta.size;
        let range = found.range.clone();
        Ok(Download { body: found.into_stream().boxed(), total_size, range })
    }

    /// Removes a blob; a blob already gone is fine.
    pub async fn delete(&self, key: &str) {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "could not delete a blob"),
        }
    }
}

fn not_found(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Store(other),
    }
}
