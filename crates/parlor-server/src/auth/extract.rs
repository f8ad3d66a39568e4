//! The `CurrentUser` extractor: REST handlers that take one are authenticated
//! (`CurrentSession` also names the session of the caller's token).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use parlor_core::{SessionId, User};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("missing credentials: send `Authorization: Bearer <token>`"))?;
        state.tokens.authenticate(token).await.map(CurrentUser)
    }
}

/// The authenticated caller and the session of their token (`None` for tokens of no session).
pub struct CurrentSession(pub User, pub Option<SessionId>);

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("missing credentials: send `Authorization: Bearer <token>`"))?;
        let (user, session) = state.tokens.authenticate_session(token).await?;
        Ok(CurrentSession(user, session))
    }
}

/// The token of an `Authorization: Bearer ...` header, if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}
