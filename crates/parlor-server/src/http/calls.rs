//! `/api/calls/`: what a client needs of the server for a call beyond the socket's signaling:
//! the ICE servers, with TURN credentials minted for the caller (`crate::calls::ice`).

use axum::extract::State;
use parlor_core::Timestamp;
use parlor_protocol::IceServers;

use crate::auth::CurrentUser;
use crate::calls::ice;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/calls/ice-servers",
    tag = "calls",
    operation_id = "calls_ice_servers",
    responses(
        (status = 200, description = "STUN and TURN servers for `RTCPeerConnection`, TURN ones with credentials for this user", body = IceServers),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn ice_servers(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<IceServers>> {
    Ok(axum::Json(ice::servers_for(state.calls.settings(), me.id, Timestamp::now())))
}
