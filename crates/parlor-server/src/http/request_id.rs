//! Request ids: every HTTP request gets one, the caller's `X-Request-Id` when it sends a sane
//! one (so the host platform can follow its own id into parlor's audit log), else a random one.
//! It is echoed in the answer's `X-Request-Id` and handed to handlers as [`RequestId`].

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;

const HEADER: &str = "x-request-id";
/// Longest caller-given id kept; a longer or odd one is replaced.
const MAX_LEN: usize = 64;

/// The request's id (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn generate() -> Self {
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The caller's id when it is 1 to 64 letters, digits, `-`, `_`, `.` or `:`.
    fn given(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?;
        let sane = !text.is_empty()
            && text.len() <= MAX_LEN
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        sane.then(|| Self(text.to_owned()))
    }
}

/// Gives the request its id, and the answer the same id.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req.headers().get(HEADER).and_then(RequestId::given).unwrap_or_else(RequestId::generate);
    let header = HeaderValue::from_str(id.as_str()).ok();
    req.extensions_mut().insert(id);
    let mut response = next.run(req).await;
    if let Some(header) = header {
        response.headers_mut().insert(HEADER, header);
    }
    response
}

/// The id [`assign`] gave; `None` only for a request that did not pass through it.
impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<RequestId>().cloned().unwrap_or_else(RequestId::generate))
    }
}
