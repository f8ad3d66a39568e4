//! `ApiError`: the one error type of the services and the layers above them. Lower layers'
//! errors (store, validation) are mapped into it once; it says what went wrong in the domain's
//! terms (a [`Kind`], a wire [`ErrorCode`] and a message), and only the edge turns it into an HTTP
//! response (the one `Kind` → status mapping, below) or a WebSocket `error` frame.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parlor_core::ValidationError;
use parlor_protocol::{ErrorBody, ErrorCode, ServerFrame};
use parlor_store::StoreError;

/// What kind of failure it is, independent of the transport: the HTTP edge maps each to one
/// status code, the WebSocket edge sends only the code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is malformed or fails validation.
    Invalid,
    /// No valid credentials came with it.
    Unauthenticated,
    /// The caller is known and may not do this.
    Forbidden,
    /// It does not exist, or it is not the caller's to see (one answer for both).
    NotFound,
    /// It clashes with the current state (taken, archived, already done).
    Conflict,
    /// The body or file is over a limit.
    TooLarge,
    /// A file of a type the server does not take.
    UnsupportedMedia,
    /// Well-formed but cannot be processed (an image too large to decode).
    Unprocessable,
    /// Too many of these too fast; `retry_after` says when to try again.
    RateLimited,
    /// A bug or a failure of the storage.
    Internal,
    /// This server's configuration or store does not offer it.
    NotImplemented,
    /// Shutting down, busy or an upstream is unreachable: retry.
    Unavailable,
    /// The disk is full; nothing was stored.
    InsufficientStorage,
}

impl Kind {
    /// The one place a kind becomes an HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Invalid => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        }
    }

    /// The kind of a rejection axum's extractors answered with (a body, a form): the edge's
    /// reading of a status it did not choose.
    pub fn of_status(status: StatusCode) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMedia,
            StatusCode::UNPROCESSABLE_ENTITY => Self::Unprocessable,
            s if s.is_server_error() => Self::Internal,
            _ => Self::Invalid,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: Kind,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds until a retry may succeed (`rate_limited`): the `Retry-After` header.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: Kind, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { kind, code, message: message.into(), retry_after: None }
    }

    /// The same answer for "does not exist" and "not yours", so ids reveal nothing.
    pub fn not_found(what: &str) -> Self {
        Self::new(Kind::NotFound, ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthenticated, ErrorCode::Unauthorized, message)
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, ErrorCode::Forbidden, message)
    }

    /// A disabled account's token, login, refresh or ticket (§12.4): one answer wherever it shows.
    pub fn account_disabled() -> Self {
        Self::forbidden("this account has been disabled").with_code(ErrorCode::AccountDisabled)
    }

    pub fn internal() -> Self {
        Self::new(Kind::Internal, ErrorCode::Internal, "internal server error")
    }

    /// The disk is full: 507, so clients and proxies see it is the server's space, not a bug.
    pub fn insufficient_storage() -> Self {
        Self::new(
            Kind::InsufficientStorage,
            ErrorCode::InsufficientStorage,
            "the server is out of disk space; nothing was stored",
        )
    }

    /// The same error under a more specific code.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::error(self.code, self.message.clone())
    }
}

/// A store result whose `NotFound` says what was missing (every other store error maps as
/// [`From<StoreError>`] does).
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> ApiResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &str) -> ApiResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(what),
            other => other.into(),
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::bad_request(ErrorCode::ValidationFailed, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("username") => {
                Self::new(Kind::Conflict, ErrorCode::UsernameTaken, "username is already taken")
            }
            StoreError::Conflict("contact") => Self::new(
                Kind::Conflict,
                ErrorCode::ConnectionExists,
                "a connection or request between you already exists",
            ),
            StoreError::Conflict("report") => {
                Self::new(Kind::Conflict, ErrorCode::AlreadyReported, "you already reported this message")
            }
            StoreError::Conflict(what) => {
                Self::new(Kind::Conflict, ErrorCode::ValidationFailed, format!("{what} already exists"))
            }
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::InvalidReference(field) => {
                Self::bad_request(ErrorCode::ValidationFailed, format!("{field}: no such message in this conversation"))
            }
            StoreError::Rule("last_owner") => {
                Self::new(Kind::Conflict, ErrorCode::LastOwner, "a room needs an owner: make someone else owner first")
            }
            StoreError::Rule("not_a_room") => {
                Self::new(Kind::Conflict, ErrorCode::NotARoom, "only rooms have titles, pictures and changing members")
            }
            StoreError::Rule("archived") => Self::new(
                Kind::Conflict,
                ErrorCode::ConversationArchived,
                "the conversation is archived: it can be read but not changed",
            ),
            StoreError::Rule(rule) => {
                Self::new(Kind::Conflict, ErrorCode::ValidationFailed, format!("refused: {rule}"))
            }
            StoreError::Unsupported(what) => Self::new(
                Kind::NotImplemented,
                ErrorCode::NotSupported,
                format!("this server's store does not support {what}"),
            ),
            StoreError::Unavailable => {
                Self::new(Kind::Unavailable, ErrorCode::Unavailable, "server is shutting down; retry shortly")
            }
            StoreError::Busy => {
                tracing::warn!(
                    "the database stayed locked, or every connection in use, past the wait; a request was refused"
                );
                Self::new(Kind::Unavailable, ErrorCode::Unavailable, "the database is busy; retry shortly")
            }
            StoreError::Full => {
                tracing::error!("the disk is full; a write was refused");
                Self::insufficient_storage()
            }
            StoreError::Backend(source) => {
                tracing::error!(error = %source, "storage failure");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.kind.status(), Json(ErrorBody { code: self.code, message: self.message })).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}
