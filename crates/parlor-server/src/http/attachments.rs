//! Attachments over HTTP: multipart upload streamed straight to storage, and downloads with the
//! headers that keep a browser safe (`nosniff`, a sandboxing CSP, `attachment` for anything that
//! could run), ranges for seeking in audio and video, and ETags for caches.

use axum::body::Body;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use parlor_core::{AttachmentId, ConversationId, MessageId, User};
use parlor_protocol::{ErrorCode, MessageView};
use parlor_store::Appended;
use serde::Serialize;

use super::extract::Id;
use crate::auth::CurrentUser;
use crate::blob::sniff;
use crate::error::{ApiError, ApiResult, Kind};
use crate::rate_limit::{Bucket, Key};
use crate::service::ReceivedFile;
use crate::state::AppState;

/// `POST /api/chat/conversations/{id}/attachments/` (and seed 000's `send-file/`): multipart with
/// `file`, optional `caption`, `client_id`, and `kind=voice` for voice notes.
#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/attachments",
    tag = "attachments",
    operation_id = "attachments_upload",
    request_body(content = crate::http::openapi::UploadForm, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 201, description = "The new message carrying the file", body = parlor_protocol::MessageView),
        (status = 200, description = "The message already stored under this `client_id`", body = parlor_protocol::MessageView),
        (status = 400, description = "Not a multipart form, or no `file` field (`invalid_body`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        (status = 413, description = "The file is over `attachments.max_upload_bytes` (`payload_too_large`)", body = parlor_protocol::ErrorBody),
        (status = 415, description = "The file's type is not allowed (`unsupported_media_type`)", body = parlor_protocol::ErrorBody),
        (status = 422, description = "The image declares too many pixels (`image_too_large`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    let appended = receive_upload(&state, &me, ConversationId(id), form).await?;
    let status = if appended.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let message = appended.message().map(MessageView::from).ok_or_else(ApiError::internal)?;
    Ok((status, axum::Json(message)))
}

/// An upload form made a message: `file`, optional `caption`, `client_id` and `kind=voice`.
/// Also seeds' upload paths (`crate::compat`), which answer in their own shape.
pub(crate) async fn receive_upload(
    state: &AppState,
    me: &User,
    id: ConversationId,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Appended> {
    // axum's own rejection (no multipart `Content-Type`, no boundary) is plain text.
    let mut form =
        form.map_err(|e| ApiError::new(Kind::of_status(e.status()), ErrorCode::InvalidBody, e.body_text()))?;
    state.rate_limits.check(Bucket::Uploads, Key::User(me.id)).await?;
    // Refuse early, before reading a byte of the file.
    state.conversations.ensure_member(me.id, id).await?;
    let (mut caption, mut client_id, mut voice, mut file): (
        Option<String>,
        Option<String>,
        bool,
        Option<ReceivedFile>,
    ) = (None, None, false, None);
    let outcome = async {
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") if file.is_none() => {
                    let name = field.file_name().map(str::to_owned);
                    let chunks = field.map_err(multipart_error);
                    file = Some(state.attachments.receive_file(id, name.as_deref(), Box::pin(chunks)).await?);
                }
                Some("file") => {
                    return Err(ApiError::bad_request(ErrorCode::InvalidBody, "send one `file` per message"));
                }
                Some("caption") => caption = Some(field.text().await.map_err(multipart_error)?),
                Some("client_id") => client_id = Some(field.text().await.map_err(multipart_error)?),
                Some("kind") => voice = field.text().await.map_err(multipart_error)? == "voice",
                _ => drop(field.bytes().await.map_err(multipart_error)?),
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        if let Some(file) = file {
            state.attachments.discard_received(file).await;
        }
        return Err(e);
    }
    let file = file.ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidBody, "missing the `file` field"))?;
    state.attachments.send_attachment(me, id, file, caption, client_id, voice).await
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(Kind::TooLarge, ErrorCode::PayloadTooLarge, "the upload is too large");
    }
    ApiError::new(Kind::of_status(e.status()), ErrorCode::InvalidBody, format!("multipart: {}", e.body_text()))
}

#[utoipa::path(
    get,
    path = "/api/chat/attachments/{id}",
    tag = "attachments",
    operation_id = "attachments_download",
    params(("id" = i64, Path, description = "The attachment"), ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`"), ("If-None-Match" = Option<String>, Header, description = "The ETag of a cached copy")),
    responses(
        (status = 200, description = "The file, with its own `Content-Type`", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 206, description = "The requested range", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 304, description = "The cached copy is current"),
        (status = 416, description = "The range is outside the file"),
        (status = 404, description = "No such attachment, or it expired", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let stored = state.attachments.attachment_for(me.id, AttachmentId(id)).await?;
    let a = &stored.attachment;
    serve(&state, &stored.blob_key, &a.content_type, &a.file_name, &stored.sha256, &headers).await
}

/// Seed 002's `GET /api/files/download/{message_id}/`.
#[utoipa::path(
    get,
    path = "/api/files/download/{id}",
    tag = "attachments",
    operation_id = "attachments_download_by_message",
    params(("id" = i64, Path, description = "The message carrying the file"), ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`"), ("If-None-Match" = Option<String>, Header, description = "The ETag of a cached copy")),
    responses(
        (status = 200, description = "The file, with its own `Content-Type`", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 206, description = "The requested range", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 304, description = "The cached copy is current"),
        (status = 416, description = "The range is outside the file"),
        (status = 404, description = "No such message, or it carries no file", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn download_by_message(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let stored = state.attachments.attachment_of(me.id, MessageId(id)).await?;
    let a = &stored.attachment;
    serve(&state, &stored.blob_key, &a.content_type, &a.file_name, &stored.sha256, &headers).await
}

#[utoipa::path(
    get,
    path = "/api/chat/attachments/{id}/thumbnail",
    tag = "attachments",
    operation_id = "attachments_thumbnail",
    params(("id" = i64, Path, description = "The attachment"), ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`"), ("If-None-Match" = Option<String>, Header, description = "The ETag of a cached copy")),
    responses(
        (status = 200, description = "The file, with its own `Content-Type`", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 206, description = "The requested range", body = crate::http::openapi::FileBytes, content_type = "*/*"),
        (status = 304, description = "The cached copy is current"),
        (status = 416, description = "The range is outside the file"),
        (status = 404, description = "No such attachment, or it has no thumbnail", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn thumbnail(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let stored = state.attachments.attachment_for(me.id, AttachmentId(id)).await?;
    let key = stored.thumbnail_key.as_deref().ok_or_else(|| ApiError::not_found("thumbnail"))?;
    let content_type = if key.ends_with(".png") { "image/png" } else { "image/jpeg" };
    let name = format!("thumbnail-{}.{}", stored.attachment.id, if key.ends_with(".png") { "png" } else { "jpg" });
    serve(&state, key, content_type, &name, &format!("{}-thumb", stored.sha256), &headers).await
}

/// Streams a blob with safe headers, honouring `If-None-Match` and a single `Range`.
async fn serve(
    state: &AppState,
    key: &str,
    content_type: &str,
    name: &str,
    hash: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let etag = format!("\"{hash}\"");
    let mut out = HeaderMap::new();
    out.insert(header::ETAG, value(&etag));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
        ),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CONTENT_DISPOSITION, value(&disposition(content_type, name)));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    let missing = |e: crate::blob::BlobError| match e {
        crate::blob::BlobError::NotFound => ApiError::not_found("attachment"),
        other => {
            tracing::error!(error = %other, "blob storage failure");
            ApiError::internal()
        }
    };
    let wanted = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, range) = match wanted {
        Some(spec) => {
            let size = state.attachments.blob_size(key).await.map_err(missing)?;
            match parse_range(&spec, size) {
                RangeRequest::Satisfiable(range) => (StatusCode::PARTIAL_CONTENT, Some(range)),
                RangeRequest::Ignored => (StatusCode::OK, None),
                RangeRequest::Unsatisfiable => {
                    out.insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
                    return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out).into_response());
                }
            }
        }
        None => (StatusCode::OK, None),
    };
    let download = state.attachments.blob(key, range).await.map_err(missing)?;
    let served = download.range.end - download.range.start;
    out.insert(header::CONTENT_TYPE, value(content_type));
    out.insert(header::CONTENT_LENGTH, value(&served.to_string()));
    if status == StatusCode::PARTIAL_CONTENT {
        let r = &download.range;
        out.insert(header::CONTENT_RANGE, value(&format!("bytes {}-{}/{}", r.start, r.end - 1, download.total_size)));
    }
    Ok((status, out, Body::from_stream(download.body)).into_response())
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// `inline` only for types a browser shows without running anything; the name both as ASCII
/// and as RFC 5987 UTF-8.
fn disposition(content_type: &str, name: &str) -> String {
    let kind = if sniff::inline(content_type) { "inline" } else { "attachment" };
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    Satisfiable(std::ops::Range<u64>),
    /// Malformed or several ranges: serve the whole file.
    Ignored,
    Unsatisfiable,
}

fn parse_range(spec: &str, size: u64) -> RangeRequest {
    let Some(ranges) = spec.trim().strip_prefix("bytes=") else { return RangeRequest::Ignored };
    if ranges.contains(',') {
        return RangeRequest::Ignored;
    }
    let Some((start, end)) = ranges.trim().split_once('-') else { return RangeRequest::Ignored };
    let parsed = match (start.trim(), end.trim()) {
        ("", "") => return RangeRequest::Ignored,
        ("", suffix) => suffix.parse::<u64>().ok().map(|n| size.saturating_sub(n)..size),
        (from, "") => from.parse::<u64>().ok().map(|f| f..size),
        (from, to) => match (from.parse::<u64>(), to.parse::<u64>()) {
            (Ok(f), Ok(t)) if t >= f => Some(f..t.saturating_add(1).min(size)),
            _ => None,
        },
    };
    match parsed {
        None => RangeRequest::Ignored,
        Some(r) if r.start >= size || r.is_empty() => RangeRequest::Unsatisfiable,
        Some(r) => RangeRequest::Satisfiable(r),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LimitsView {
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
    /// Images whose pixels would take more than this decoded (width × height × bytes per
    /// pixel) are refused with 422 `image_too_large`.
    pub max_image_bytes: u64,
    pub allowed_types: Vec<String>,
    pub max_message_chars: usize,
    pub max_frame_bytes: usize,
}

/// `GET /api/chat/limits/`: what a client should check before sending.
#[utoipa::path(
    get,
    path = "/api/chat/limits",
    tag = "attachments",
    operation_id = "attachments_limits",
    responses(
        (status = 200, description = "Upload and message limits", body = LimitsView),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn limits(State(state): State<AppState>, CurrentUser(_): CurrentUser) -> axum::Json<LimitsView> {
    let c = &state.config;
    axum::Json(LimitsView {
        max_upload_bytes: c.attachments.max_upload_bytes,
        max_image_pixels: c.attachments.max_image_pixels,
        max_image_bytes: c.attachments.max_image_bytes,
        allowed_types: c.attachments.allowed_types.clone(),
        max_message_chars: c.limits.max_message_chars,
        max_frame_bytes: c.limits.max_frame_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeRequest::Satisfiable(0..10));
        assert_eq!(parse_range("bytes=90-", 100), RangeRequest::Satisfiable(90..100));
        assert_eq!(parse_range("bytes=-5", 100), RangeRequest::Satisfiable(95..100));
        assert_eq!(parse_range("bytes=50-500", 100), RangeRequest::Satisfiable(50..100));
        assert_eq!(parse_range("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeRequest::Ignored);
        assert_eq!(parse_range("items=0-1", 100), RangeRequest::Ignored);
    }

    #[test]
    fn dispositions_never_inline_html_and_encode_names() {
        assert_eq!(disposition("text/html", "x.html"), "attachment; filename=\"x.html\"; filename*=UTF-8''x.html");
        assert!(
            disposition("image/png", "ü.png").starts_with("inline; filename=\"_.png\"; filename*=UTF-8''%C3%BC.png")
        );
    }
}
