//! `/api/auth/*`: register, log in, refresh.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_protocol::{RefreshRequest, RegisterRequest, TokenRequest, TokenResponse, UserView};

use super::extract::Json;
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

fn tokens(state: &AppState, s: Session) -> axum::Json<TokenResponse> {
    axum::Json(TokenResponse {
        access: s.access,
        refresh: s.refresh,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl_secs(),
        user: UserView::from(&s.user),
    })
}
