//! `/api/auth/*`: register, log in, refresh, and WebSocket tickets.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_protocol::{RefreshRequest, RegisterRequest, TokenRequest, TokenResponse, UserView, WsTicketResponse};

use super::extract::Json;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::service::Session;
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, axum::Json<TokenResponse>)> {
    state.rate_limits.check(Bucket::Registrations, Key::Ip(ip)).await?;
    let session = state.accounts.register(&body.username, body.password, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, tokens(&state, session)))
}

/// Every attempt counts against the client's address and the username, before the password is
/// checked: guessing is slow whether it targets one account or many.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<TokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    state.rate_limits.check(Bucket::Logins, Key::Ip(ip)).await?;
    state.rate_limits.check(Bucket::LoginsPerUsername, Key::username(&body.username)).await?;
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
