//! `/api/email/unsubscribe?token=...`: the link in every mail's `List-Unsubscribe` header and
//! footer. `POST` (a mail client's one-click unsubscribe, RFC 8058, or the page's button) turns
//! email off for the user the signed token names, with no login; `GET` only shows a page with
//! that button, so a link scanner fetching it unsubscribes nobody. A forged or altered token is
//! `400`; with email off on this server both are `404`.

use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::extract::Query;
use crate::away::email::Email;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UnsubscribeQuery {
    /// The token from the mail's link.
    token: String,
}

fn email(state: &AppState) -> ApiResult<&Email> {
    state.email.as_ref().ok_or_else(|| ApiError::not_found("email"))
}

#[utoipa::path(
    get,
    path = "/api/email/unsubscribe",
    tag = "users",
    operation_id = "email_unsubscribe_page",
    params(UnsubscribeQuery),
    security(()),
    responses(
        (status = 200, description = "A page with a button that turns email off (nothing changes yet)", body = String, content_type = "text/html"),
        (status = 400, description = "Not a token this server signed", body = parlor_protocol::ErrorBody),
        (status = 404, description = "Email is off on this server", body = parlor_protocol::ErrorBody),
    ),
)]
pub async fn page(State(state): State<AppState>, Query(query): Query<UnsubscribeQuery>) -> ApiResult<Html<String>> {
    email(&state)?.user_of(&query.token)?;
    let action = format!("?token={}", html_escape::encode_double_quoted_attribute(&query.token));
    Ok(Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Unsubscribe</title></head>\n\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">\n\
         <h1>Stop email from parlor?</h1>\n<p>You will get no more email about messages you have not read. \
         You can turn it on again in the notification settings.</p>\n\
         <form method=\"post\" action=\"{action}\"><button type=\"submit\">Turn email off</button></form>\n\
         </body></html>\n"
    )))
}

#[utoipa::path(
    post,
    path = "/api/email/unsubscribe",
    tag = "users",
    operation_id = "email_unsubscribe",
    params(UnsubscribeQuery),
    security(()),
    responses(
        (status = 200, description = "Email is off for the user the token names (a mail client's one-click `List-Unsubscribe=One-Click` body is accepted and not needed)", body = String, content_type = "text/html"),
        (status = 400, description = "Not a token this server signed", body = parlor_protocol::ErrorBody),
        (status = 404, description = "Email is off on this server, or the user is gone", body = parlor_protocol::ErrorBody),
    ),
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<UnsubscribeQuery>,
) -> ApiResult<Html<&'static str>> {
    email(&state)?.unsubscribe(&state.away, &query.token).await?;
    Ok(Html(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>\n\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">\n\
         <h1>Email is off</h1>\n<p>You will get no more email from parlor. Turn it on again in the \
         notification settings.</p>\n</body></html>\n",
    ))
}
