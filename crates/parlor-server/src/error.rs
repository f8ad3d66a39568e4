//! `ApiError`: the one error type at the edge. Lower layers' errors are mapped into it once,
//! and it becomes either an HTTP response or a WebSocket `error` frame.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parlor_core::ValidationError;
use parlor_protocol::{ErrorBody, ErrorCode, ServerFrame};
use parlor_store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds until a retry may succeed (`rate_limited`): the `Retry-After` header.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// The same answer for "does not exist" and "not yours", so ids reveal nothing.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// A disabled account's token, login, refresh or ticket (§12.4): one answer wherever it shows.
    pub fn account_disabled() -> Self {
        Self::forbidden("this account has been disabled").with_code(ErrorCode::AccountDisabled)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal server error")
    }

    /// The disk is full: 507, so clients and proxies see it is the server's space, not a bug.
    pub fn insufficient_storage() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
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

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::bad_request(ErrorCode::ValidationFailed, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("username") => {
                Self::new(StatusCode::CONFLICT, ErrorCode::UsernameTaken, "username is already taken")
            }
            StoreError::Conflict("connection") => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::ConnectionExists,
                "a connection or request between you already exists",
            ),
            StoreError::Conflict("report") => {
                Self::new(StatusCode::CONFLICT, ErrorCode::AlreadyReported, "you already reported this message")
            }
            StoreError::Conflict(what) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::ValidationFailed, format!("{what} already exists"))
            }
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::InvalidReference(field) => {
                Self::bad_request(ErrorCode::ValidationFailed, format!("{field}: no such message in this conversation"))
            }
            StoreError::Rule("last_owner") => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::LastOwner,
                "a room needs an owner: make someone else owner first",
            ),
            StoreError::Rule("not_a_room") => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::NotARoom,
                "only rooms have titles, pictures and changing members",
            ),
            StoreError::Rule("archived") => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::ConversationArchived,
                "the conversation is archived: it can be read but not changed",
            ),
            StoreError::Rule(rule) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::ValidationFailed, format!("refused: {rule}"))
            }
            StoreError::Unsupported(what) => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                ErrorCode::NotSupported,
                format!("this server's store does not support {what}"),
            ),
            StoreError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "server is shutting down; retry shortly",
            ),
            StoreError::Busy => {
                tracing::warn!("the database stayed locked by another process; a write was refused");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "the database is busy; retry shortly",
                )
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
        let mut response = (self.status, Json(ErrorBody { code: self.code, message: self.message })).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}
