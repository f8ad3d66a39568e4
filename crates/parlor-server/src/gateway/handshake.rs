//! Who may open a socket, decided before the upgrade: a browser page from an allowed origin
//! (against cross-site WebSocket hijacking), with a one-time ticket, an access token, a bearer
//! header, or the platform's own session cookie or token (asked of the platform).

use axum::http::{HeaderMap, Uri, header};
use parlor_core::{SessionId, User};
use serde::Deserialize;

use crate::auth::introspection::Credential;
use crate::auth::{bearer_token, platform_credential};
use crate::config::WebSocketSettings;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The handshake's query string.
#[derive(Deserialize)]
pub struct Credentials {
    /// One-time ticket from `POST /api/auth/ws-ticket`: the recommended way.
    #[serde(default)]
    ticket: Option<String>,
    /// An access token, as seed 001 passes it.
    #[serde(default)]
    token: Option<String>,
}

/// Refuses a browser page from another site: a page may open a socket to any host, and the
/// browser does not stop it, so the server checks the `Origin` the browser sets. Without one the
/// client is not a browser, and `Origin` protects nothing there.
pub fn check_origin(headers: &HeaderMap, uri: &Uri, settings: &WebSocketSettings) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let refused = || {
        let shown = String::from_utf8_lossy(origin.as_bytes());
        ApiError::forbidden(format!("origin {shown} is not allowed"))
    };
    let origin = origin.to_str().map_err(|_| refused())?.trim_end_matches('/');
    let listed =
        settings.allowed_origins.iter().any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(origin));
    // parlor's own pages: the origin names the host the request was sent to. The scheme is not
    // compared, since TLS usually ends at a proxy in front of parlor.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
    let same = match (origin.split_once("://"), host) {
        (Some((_, origin_host)), Some(host)) => origin_host.eq_ignore_ascii_case(host),
        _ => false,
    };
    if listed || same { Ok(()) } else { Err(refused()) }
}

/// The user the handshake speaks for, and the session of the credential: `?ticket=`, else
/// `?token=`, else `Authorization: Bearer`, else a credential the platform checks
/// (`Authorization: Token`, the session cookie), which has no parlor session.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    credentials: &Credentials,
) -> ApiResult<(User, Option<SessionId>)> {
    if let Some(ticket) = credentials.ticket.as_deref().filter(|t| !t.is_empty()) {
        let (user, session) = state
            .tickets
            .redeem(ticket)
            .await?
            .ok_or_else(|| ApiError::unauthorized("ticket is invalid, expired or already used"))?;
        return Ok((state.tokens.active_user(user, session).await?, session));
    }
    if let Some(token) = credentials.token.as_deref().filter(|t| !t.is_empty()) {
        // Not a JWT: the platform's own token (a DRF key) in the query, as its pages pass it.
        if token.split('.').count() != 3 {
            return Ok((state.tokens.authenticate_platform(Credential::Token(token)).await?, None));
        }
        return state.tokens.authenticate_session(token).await;
    }
    if let Some(token) = bearer_token(headers) {
        return state.tokens.authenticate_session(token).await;
    }
    // A page of the platform's own, as Django Channels' AuthMiddlewareStack reads it.
    match platform_credential(headers, &state.config.auth.session_cookie) {
        Some(credential) => Ok((state.tokens.authenticate_platform(credential).await?, None)),
        None => {
            Err(ApiError::unauthorized("missing credentials: pass `?ticket=`, `?token=` or `Authorization: Bearer`"))
        }
    }
}
