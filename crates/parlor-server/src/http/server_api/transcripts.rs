//! Signed transcripts over the server API: `GET /api/server/conversations/{id}/transcript`
//! and the key that verifies them, `GET /api/server/transcript-key` (docs/transcripts.md).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use parlor_core::ConversationId;
use serde::Serialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::Id;
use crate::state::AppState;

/// The media type of a transcript: JSON lines.
const NDJSON: &str = "application/x-ndjson";

#[derive(Serialize, utoipa::ToSchema)]
pub struct TranscriptKeyView {
    /// Always `ed25519`.
    algorithm: &'static str,
    /// The 32-byte public key, in hex.
    public_key: String,
}

#[utoipa::path(
    get,
    path = "/api/server/conversations/{id}/transcript",
    tag = "server",
    operation_id = "server_transcript",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The signed transcript: JSON lines (docs/transcripts.md)", body = String, content_type = "application/x-ndjson"),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn transcript(State(state): State<AppState>, _: ServerKey, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let signed = state.transcripts.signed(ConversationId(id)).await?;
    Ok(([(header::CONTENT_TYPE, NDJSON)], signed))
}

#[utoipa::path(
    get,
    path = "/api/server/transcript-key",
    tag = "server",
    operation_id = "server_transcript_key",
    responses(
        (status = 200, description = "The key transcripts are signed with", body = TranscriptKeyView),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn key(State(state): State<AppState>, _: ServerKey) -> axum::Json<TranscriptKeyView> {
    axum::Json(TranscriptKeyView { algorithm: "ed25519", public_key: state.transcripts.public_key() })
}
