//! The OpenAPI document, served at `GET /api/openapi.json`: assembled from the
//! `#[utoipa::path]` annotations on the handlers and the `ToSchema` wire types of
//! parlor-protocol, rendered once when the router is built.
//!
//! **Invariant:** every REST route in [`super::router`] is listed in [`ApiDoc`]'s `paths`;
//! `tests/api/openapi.rs` fails for a route that is not.

use axum::body::Bytes;
use axum::http::header;
use axum::routing::{MethodRouter, get};
use parlor_protocol::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::{
    accounts, attachments, calls, contacts, conversations, email, exports, messages, moderation, notification_settings,
    notifications, privacy, push, rooms, search, server_api, users,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parlor",
        description = "The REST API of parlor, a self-hosted real-time chat server. The WebSocket \
                       protocol (`/ws`, `/ws/chat/{id}`) is not REST and is described in docs/protocol.md."
    ),
    paths(
        accounts::register,
        accounts::token,
        accounts::refresh,
        accounts::ws_ticket,
        users::me,
        users::update_me,
        privacy::delete_me,
        privacy::set_retention,
        exports::request,
        exports::list,
        exports::get_one,
        exports::download,
        notification_settings::get,
        notification_settings::update,
        users::search,
        users::get_one,
        users::by_external,
        users::status,
        users::presence,
        conversations::list,
        conversations::open_direct,
        conversations::get_one,
        conversations::mark_read,
        conversations::receipts,
        conversations::unread_count,
        rooms::update,
        rooms::archive,
        rooms::unarchive,
        rooms::leave,
        rooms::add_members,
        rooms::remove_member,
        rooms::set_role,
        rooms::by_context,
        rooms::create,
        messages::history,
        messages::send,
        messages::send_seed,
        messages::get_one,
        messages::edit,
        messages::delete,
        messages::react,
        messages::forward,
        messages::receipts,
        attachments::upload,
        attachments::download,
        attachments::thumbnail,
        attachments::download_by_message,
        attachments::limits,
        contacts::list,
        contacts::request,
        contacts::remove,
        contacts::accept,
        contacts::decline,
        contacts::cancel,
        moderation::mute,
        moderation::unmute,
        moderation::block,
        moderation::unblock,
        moderation::blocked,
        moderation::report,
        moderation::reports,
        moderation::delete_message,
        moderation::disable_user,
        moderation::enable_user,
        calls::ice_servers,
        notifications::list,
        notifications::unread_count,
        notifications::mark_all_read,
        notifications::mark_read,
        email::page,
        email::unsubscribe,
        push::config,
        push::subscribe,
        push::list,
        push::unsubscribe,
        search::messages,
        search::conversations,
        server_api::users::upsert,
        server_api::users::get_one,
        server_api::privacy::delete_user,
        server_api::privacy::hold,
        server_api::privacy::release,
        server_api::platform::unread,
        server_api::platform::set_flags,
        server_api::platform::connect,
        server_api::platform::by_context,
        server_api::platform::notice,
        server_api::platform::add_members,
        server_api::platform::remove_member,
        server_api::webhooks::list,
        server_api::webhooks::create,
        server_api::webhooks::delete,
        server_api::webhooks::deliveries,
        server_api::audit::list,
        server_api::transcripts::transcript,
        server_api::transcripts::key,
        server_api::operator::create_account,
        server_api::operator::by_username,
        server_api::operator::issue_token,
        server_api::operator::conversation,
        server_api::operator::messages,
        server_api::operator::backup,
        server_api::operator::vacuum,
    ),
    components(schemas(ErrorBody, parlor_protocol::ErrorCode)),
    modifiers(&SecuritySchemes, &SendFileAlias, &Unavailable),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// `bearer` for the client API (an access token, or the host platform's token in host-app
/// mode); `api_key` for the server API under `/api/server/`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    }
}

/// Seed 000's `send-file` is the upload under another name.
struct SendFileAlias;

impl Modify for SendFileAlias {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = &mut openapi.paths.paths;
        let Some(mut alias) = paths.get("/api/chat/conversations/{id}/attachments").cloned() else { return };
        if let Some(post) = alias.post.as_mut() {
            post.operation_id = Some("send_file".to_owned());
            post.summary = Some("Upload a file as a message (seed 000's name for the upload).".to_owned());
        }
        paths.insert("/api/chat/conversations/{id}/send-file".to_owned(), alias);
    }
}

/// 503 `unavailable` on every operation: each reads or writes the database, which answers so
/// when it stays locked beyond `database.busy_timeout_ms`, and checks credentials, which in
/// host-app mode may need the platform's key set; image uploads may also find no room to decode.
struct Unavailable;

impl Modify for Unavailable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description(
                "Temporarily unavailable (`unavailable`): the database stayed locked beyond \
                 `database.busy_timeout_ms`, or a service parlor needs (the platform's signing keys, \
                 Redis) cannot be reached. Nothing was changed; retry later.",
            )
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        openapi.components.get_or_insert_with(Default::default).responses.insert("Unavailable".into(), response.into());
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let listed = &mut operation.responses.responses;
                listed.entry("503".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("Unavailable")));
            }
        }
    }
}

/// What any endpoint behind a token can answer before it does anything.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes responses for the document; handlers answer with `ApiError`")]
pub enum AuthErrors {
    /// No token, or an expired, tampered or unknown one (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The account is disabled (`account_disabled`), or the caller may see this but not do it
    /// (`forbidden`, `editing_disabled`, `blocked`, `connection_required`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
}

/// What a JSON request body can be refused for.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes responses for the document; handlers answer with `ApiError`")]
pub enum BodyErrors {
    /// Not JSON (`invalid_json`), a field missing or mistyped (`invalid_body`), or a value
    /// breaking a rule (`validation_failed`).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The body is over `limits.max_body_bytes` (`payload_too_large`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// No `Content-Type: application/json` (`invalid_json`).
    #[response(status = 415)]
    NotJson(ErrorBody),
}

/// Over a rate limit (`rate_limited`, docs/protocol.md §8.1), with `Retry-After` in seconds.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes responses for the document; handlers answer with `ApiError`")]
pub enum RateLimited {
    /// Too many requests of this kind; retry after `Retry-After` seconds (`rate_limited`).
    #[response(status = 429)]
    TooMany(ErrorBody),
}

/// What the server API answers without its key.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "describes responses for the document; handlers answer with `ApiError`")]
pub enum ServerKeyErrors {
    /// No API key, or a wrong one (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The server API is disabled: no `api_key` is configured (`forbidden`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many wrong keys from this address (`rate_limits.failed_api_keys_per_ip`): every
    /// request from it waits `Retry-After` seconds (`rate_limited`).
    #[response(status = 429)]
    LockedOut(ErrorBody),
}

/// A file's bytes in a download.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[expect(dead_code, reason = "describes downloads for the OpenAPI document")] Vec<u8>);

/// The multipart form of an upload.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the form for the OpenAPI document; the handler reads the fields itself")]
pub struct UploadForm {
    /// The file; its type is detected from its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Text sent with the file.
    caption: Option<String>,
    /// The client's id for the message, to make retries idempotent.
    client_id: Option<String>,
    /// `voice` for a voice note.
    kind: Option<String>,
}

/// `GET /api/openapi.json`: the document, rendered once when the router is built.
pub fn route() -> MethodRouter<AppState> {
    let document = match ApiDoc::openapi().to_json() {
        Ok(json) => Bytes::from(json),
        Err(e) => {
            tracing::error!(error = %e, "rendering the OpenAPI document failed");
            Bytes::from_static(b"{}")
        }
    };
    get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) })
}
