//! A person's exports of their own data (docs/privacy.md §5): asking for one, following it, and
//! downloading the archive once it is ready. Owners only: anyone else's export is a 404.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parlor_protocol::{ExportList, ExportView};
use parlor_store::ExportJob;

use super::RequestId;
use super::extract::Id;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::service::{Actor, Record};
use crate::state::AppState;

fn view(job: &ExportJob) -> ExportView {
    let ready = job.status == parlor_store::ExportStatus::Ready;
    ExportView {
        id: job.id,
        status: job.status.as_str(),
        created_at: job.created_at,
        finished_at: job.finished_at,
        expires_at: job.expires_at.filter(|_| ready),
        size_bytes: job.size_bytes,
        error: job.error.clone(),
        download_url: ready.then(|| format!("/api/users/me/exports/{}/download", job.id)),
    }
}

#[utoipa::path(
    post,
    path = "/api/users/me/export",
    tag = "users",
    operation_id = "users_export_request",
    responses(
        (status = 202, description = "Asked for: the archive is built in the background, and an `export_ready` notification says when it can be downloaded", body = ExportView),
        (status = 429, description = "An export is already in progress, or `privacy.export_per_day` were asked for in 24 hours (`rate_limited`, with `Retry-After`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn request(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
) -> ApiResult<(StatusCode, axum::Json<ExportView>)> {
    let job = state.privacy.request_export(me.id).await?;
    let record = Record::new(Actor::User(me.id), "user.export").target("user", me.id);
    state.audit.record(record.request(Some(&request)).details(serde_json::json!({ "export_id": job.id }))).await;
    Ok((StatusCode::ACCEPTED, axum::Json(view(&job))))
}

#[utoipa::path(
    get,
    path = "/api/users/me/exports",
    tag = "users",
    operation_id = "users_exports_list",
    responses(
        (status = 200, description = "The caller's exports, newest first (failed and expired ones are forgotten after a week)", body = ExportList),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn list(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> ApiResult<axum::Json<ExportList>> {
    let jobs = state.privacy.exports(me.id).await?;
    Ok(axum::Json(ExportList { results: jobs.iter().map(view).collect() }))
}

#[utoipa::path(
    get,
    path = "/api/users/me/exports/{id}",
    tag = "users",
    operation_id = "users_exports_get",
    params(("id" = i64, Path, description = "The export")),
    responses(
        (status = 200, description = "The export", body = ExportView),
        (status = 404, description = "No such export of the caller's", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ExportView>> {
    Ok(axum::Json(view(&state.privacy.export(me.id, id).await?)))
}

#[utoipa::path(
    get,
    path = "/api/users/me/exports/{id}/download",
    tag = "users",
    operation_id = "users_exports_download",
    params(("id" = i64, Path, description = "The export")),
    responses(
        (status = 200, description = "The archive (a zip)", body = crate::http::openapi::FileBytes, content_type = "application/zip"),
        (status = 404, description = "No such export of the caller's, or it is not ready (or expired)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn download(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<Response> {
    let (job, download) = state.privacy.export_download(me.id, id).await?;
    let name = format!("attachment; filename=\"parlor-export-{}.zip\"", job.id);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
        (header::CONTENT_LENGTH, HeaderValue::from(download.total_size)),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment"))),
    ];
    Ok((StatusCode::OK, headers, Body::from_stream(download.body)).into_response())
}
