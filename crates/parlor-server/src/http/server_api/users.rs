//! Provisioning the host platform's users: `PUT /api/server/users/{external_id}`.

use axum::extract::{Path, State};
use parlor_protocol::ServerUserView;
use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::Json;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertUser {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

/// Creates the platform's user on first sight, refreshes name and avatar after.
pub async fn upsert(
    State(state): State<AppState>,
    _: ServerKey,
    Path(external_id): Path<String>,
    Json(body): Json<UpsertUser>,
) -> ApiResult<axum::Json<ServerUserView>> {
    let user = state.accounts.upsert_external(&external_id, body.name.as_deref(), body.avatar.as_deref()).await?;
    Ok(axum::Json(ServerUserView::from(&user)))
}
