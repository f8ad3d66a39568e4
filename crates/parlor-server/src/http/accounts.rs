//! `/api/auth/*`: register, log in, refresh, and WebSocket tickets.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_protocol::{RefreshRequest, RegisterRequest, TokenRequest, TokenResponse, UserView, WsTicketResponse};

use super::extract::Json;
use crate::auth::CurrentSession;
use crate::error::ApiResult;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::service::Session;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    operation_id = "accounts_register",
    request_body = parlor_protocol::RegisterRequest,
    responses(
        crate::http::openapi::RateLimited,
        (status = 201, description = "Registered and logged in", body = parlor_protocol::TokenResponse),
        (status = 409, description = "The username is taken (`username_taken`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
    ),
    security(()),
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, axum::Json<TokenResponse>)> {
    state.rate_limits.check(Bucket::Registrations, Key::Ip(ip)).await?;
    let session = state.accounts.register(&body.username, body.password, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, tokens(&state, session)))
}

#[utoipa::path(
    post,
    path = "/api/auth/token",
    tag = "auth",
    operation_id = "accounts_token",
    request_body = parlor_protocol::TokenRequest,
    responses(
        crate::http::openapi::RateLimited,
        (status = 200, description = "Logged in", body = parlor_protocol::TokenResponse),
        (status = 401, description = "Wrong username or password (`invalid_credentials`)", body = parlor_protocol::ErrorBody),
        (status = 403, description = "The account is disabled (`account_disabled`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
    ),
    security(()),
)]
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

#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    operation_id = "accounts_refresh",
    request_body = parlor_protocol::RefreshRequest,
    responses(
        (status = 200, description = "Fresh tokens; the refresh token given is spent", body = parlor_protocol::TokenResponse),
        (status = 401, description = "The refresh token is invalid, expired or already used (`unauthorized`)", body = parlor_protocol::ErrorBody),
        (status = 403, description = "The account is disabled (`account_disabled`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
    ),
    security(()),
)]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    let session = state.accounts.refresh(&body.refresh).await?;
    Ok(tokens(&state, session))
}

/// A one-time ticket for the WebSocket handshake, so the access token stays out of its URL.
#[utoipa::path(
    post,
    path = "/api/auth/ws-ticket",
    tag = "auth",
    operation_id = "accounts_ws_ticket",
    responses(
        (status = 200, description = "A ticket for `/ws/?ticket=`, valid once and for `expires_in` seconds", body = parlor_protocol::WsTicketResponse),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn ws_ticket(
    State(state): State<AppState>,
    CurrentSession(me, session): CurrentSession,
) -> ApiResult<axum::Json<WsTicketResponse>> {
    let ticket = state.tickets.issue(me.id, session).await?;
    Ok(axum::Json(WsTicketResponse { ticket, expires_in: state.tickets.ttl().as_secs() }))
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
