//! `/api/auth/*`: register, log in, refresh, and WebSocket tickets.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_protocol::{RefreshRequest, RegisterRequest, TokenRequest, TokenResponse, UserView, WsTicketResponse};

use super::extract::Json;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::service::Session;
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, axum::Json<TokenResponse>)> {
    let session = state.accounts.register(&body.username, body.password, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, tokens(&state, session)))
}

pub async fn token(
    State(state): State<AppState>,
    Json(body): Json<TokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let session = state.accounts.login(&body.username, body.password).await?;
    Ok(tokens(&state, session))
}

pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let session = state.accounts.refresh(&body.refresh).await?;
    Ok(tokens(&state, session))
}

/// A one-time ticket for the WebSocket handshake, so the access token stays out of its URL.
pub async fn ws_ticket(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> axum::Json<WsTicketResponse> {
    let ticket = state.tickets.issue(me.id);
    axum::Json(WsTicketResponse { ticket, expires_in: state.tickets.ttl().as_secs() })
}

fn tokens(state: &AppState, s: Session) -> axum::Json<TokenResponse> {
    axum::Json(TokenResponse {
        access: s.access,
        refresh: s.refresh,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl_secs(),
        user: UserView::from(&s.user),
    })
}
