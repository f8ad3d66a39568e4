//! The `CurrentUser` extractor: REST handlers that take one are authenticated, by parlor's own
//! or a host token (`Authorization: Bearer`), or by a credential the platform checks
//! (`Authorization: Token`, the session cookie; `introspection.rs`). `CurrentSession` also names
//! the session of the caller's (Bearer) token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use parlor_core::{SessionId, User};

use super::introspection::Credential;
use crate::error::ApiError;
use crate::state::AppState;

/// Django's header for the page's CSRF token. Other sites' pages cannot send it: a custom header
/// needs a CORS preflight, which parlor answers only for `http.cors_allowed_origins`.
const CSRF_HEADER: &str = "x-csrftoken";

/// The authenticated caller.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            return state.tokens.authenticate(token).await.map(CurrentUser);
        }
        match platform_credential(&parts.headers, &state.config.auth.session_cookie) {
            // A browser sends the cookie with a form another site posts: as Django does, a write
            // must also carry a header such a form cannot set (the page's CSRF token).
            Some(Credential::Session(_)) if !parts.method.is_safe() && !parts.headers.contains_key(CSRF_HEADER) => {
                Err(ApiError::forbidden(
                    "a write authenticated by the session cookie needs the `X-CSRFToken` header (CSRF protection)",
                ))
            }
            Some(credential) => state.tokens.authenticate_platform(credential).await.map(CurrentUser),
            None => Err(ApiError::unauthorized("missing credentials: send `Authorization: Bearer <token>`")),
        }
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
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// A credential only the platform can check: `Authorization: Token <key>` (Django REST
/// framework), else the session cookie named `cookie`.
pub fn platform_credential<'h>(headers: &'h HeaderMap, cookie: &str) -> Option<Credential<'h>> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, key)) = value.split_once(' ')
        && scheme.eq_ignore_ascii_case("token")
        && !key.trim().is_empty()
    {
        return Some(Credential::Token(key.trim()));
    }
    session_cookie(headers, cookie).map(Credential::Session)
}

/// The value of the cookie `name`, from any `Cookie` header.
fn session_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"'))
}
