//! CORS: which browser pages on other origins may call the API (`http.cors_allowed_origins`),
//! answered by tower-http's `CorsLayer` for every route, preflights included. Without the
//! setting no CORS header is sent and `OPTIONS` stays unrouted, so browsers let only parlor's
//! own pages read its answers.
//!
//! parlor's own credentials (bearer tokens, API keys, one-time tickets) are sent by the page
//! itself, so allowing an origin lets its scripts read what they could already ask for. The one
//! cookie parlor honours is the platform's session cookie (with `auth.introspection_url`): a page
//! on another origin gets it sent only when that origin is listed and credentials are allowed,
//! and a write with it still needs `X-CSRFToken`, which CORS does not let such a page send.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower::layer::util::Identity;
use tower::util::Either;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::HttpSettings;

/// How long a browser may cache a preflight's answer (Chromium caps it at two hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Request headers a page may set: its token, its JSON, and `Range` to seek in a video or
/// resume a download.
const ALLOWED_HEADERS: [HeaderName; 3] = [header::AUTHORIZATION, header::CONTENT_TYPE, header::RANGE];

/// Response headers a page may read besides the always-visible ones: how long to wait after a
/// 429, the name of a downloaded file, and a ranged download's position and version.
const EXPOSED_HEADERS: [HeaderName; 4] =
    [header::RETRY_AFTER, header::CONTENT_DISPOSITION, header::CONTENT_RANGE, header::ETAG];

/// The layer for `settings`: CORS for the listed origins, or nothing at all.
pub fn layer(settings: &HttpSettings) -> Either<CorsLayer, Identity> {
    let origins = &settings.cors_allowed_origins;
    if origins.is_empty() {
        return Either::Right(Identity::new());
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Browsers send scheme and host in lower case; config validation checked the syntax.
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(&o.to_ascii_lowercase()).ok()))
    };
    Either::Left(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .allow_credentials(settings.cors_allow_credentials)
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
