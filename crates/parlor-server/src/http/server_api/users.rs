//! The host platform's users: provisioning (`PUT /api/server/users/{external_id}`) and looking
//! one up (`GET`).

use axum::extract::{Path, State};
use parlor_protocol::ServerUserView;
use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::Json;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertUser {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

/// Creates the platform's user on first sight, refreshes name and avatar after.
#[utoipa::path(
    put,
    path = "/api/server/users/{external_id}",
    tag = "server",
    operation_id = "server_users_upsert",
    request_body = UpsertUser,
    params(("external_id" = String, Path, description = "The host platform's id for the user")),
    responses(
        (status = 200, description = "The user, created or refreshed", body = parlor_protocol::ServerUserView),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn upsert(
    State(state): State<AppState>,
    _: ServerKey,
    Path(external_id): Path<String>,
    Json(body): Json<UpsertUser>,
) -> ApiResult<axum::Json<ServerUserView>> {
    let user = state.accounts.upsert_external(&external_id, body.name.as_deref(), body.avatar.as_deref()).await?;
    Ok(axum::Json(ServerUserView::from(&user)))
}

/// The platform's user as parlor knows them; 404 until parlor has seen them (a token, an
/// upsert, or a "Chat with" reference).
#[utoipa::path(
    get,
    path = "/api/server/users/{external_id}",
    tag = "server",
    operation_id = "server_users_get",
    params(("external_id" = String, Path, description = "The host platform's id for the user")),
    responses(
        (status = 200, description = "The user", body = parlor_protocol::ServerUserView),
        (status = 404, description = "parlor has not seen this user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn get_one(
    State(state): State<AppState>,
    _: ServerKey,
    Path(external_id): Path<String>,
) -> ApiResult<axum::Json<ServerUserView>> {
    let user = state.platform.platform_user(&external_id).await?;
    Ok(axum::Json(ServerUserView::from(&user)))
}
