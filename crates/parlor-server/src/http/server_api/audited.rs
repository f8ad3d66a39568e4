//! The server API's audit trail: every call made with the server's `api_key` is recorded once,
//! after it is answered, whatever its outcome: who (`api_key`), what (the route's action name
//! below), to what (the route's ids, for a successful call), the request id, and the HTTP status. A handler adds
//! details of its own by putting an [`AuditNote`] in its answer. Calls refused for a missing or
//! wrong key are not recorded (the lockout counts those).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::http::RequestId;
use crate::service::{Actor, Record};
use crate::state::AppState;

/// Set by [`crate::auth::ServerKey`] when the request's key was accepted.
#[derive(Clone, Default)]
pub struct KeyUsed(Arc<AtomicBool>);

impl KeyUsed {
    pub fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Details a handler adds to its call's entry (merged into `details`); never secrets or
/// message content.
#[derive(Clone, Debug)]
pub struct AuditNote(pub Value);

/// The action each server API route records, by method and route template. A route missing
/// here is recorded as `METHOD /template`, so a new route is audited before it is named.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("PUT", "/api/server/users/{external_id}", "user.upsert"),
    ("GET", "/api/server/users/{external_id}", "user.read"),
    ("DELETE", "/api/server/users/{external_id}", "user.erase"),
    ("GET", "/api/server/users/{external_id}/unread", "user.unread_read"),
    ("POST", "/api/server/accounts", "account.create"),
    ("GET", "/api/server/accounts/by-username/{username}", "account.read"),
    ("PATCH", "/api/server/accounts/{id}", "account.update"),
    ("POST", "/api/server/accounts/{id}/tokens", "account.token_issue"),
    ("POST", "/api/server/connections", "connection.create"),
    ("PUT", "/api/server/conversations/by-context/{kind}/{external_id}", "conversation.by_context"),
    ("GET", "/api/server/conversations/{id}", "conversation.read"),
    ("GET", "/api/server/conversations/{id}/messages", "conversation.messages_read"),
    ("GET", "/api/server/conversations/{id}/transcript", "conversation.transcript"),
    ("POST", "/api/server/conversations/{id}/notices", "conversation.notice"),
    ("PUT", "/api/server/conversations/{id}/legal-hold", "conversation.legal_hold"),
    ("DELETE", "/api/server/conversations/{id}/legal-hold", "conversation.legal_hold_release"),
    ("POST", "/api/server/conversations/{id}/members", "conversation.members_add"),
    ("DELETE", "/api/server/conversations/{id}/members/{external_id}", "conversation.member_remove"),
    ("POST", "/api/server/backup", "server.backup"),
    ("POST", "/api/server/vacuum", "server.vacuum"),
    ("GET", "/api/server/webhooks", "webhook.list"),
    ("POST", "/api/server/webhooks", "webhook.create"),
    ("DELETE", "/api/server/webhooks/{id}", "webhook.delete"),
    ("GET", "/api/server/webhooks/{id}/deliveries", "webhook.deliveries_read"),
    ("GET", "/api/server/audit", "audit.read"),
    ("GET", "/api/server/transcript-key", "transcript.key_read"),
];

fn action(method: &Method, route: &str) -> String {
    ACTIONS
        .iter()
        .find(|(m, r, _)| *m == method.as_str() && *r == route)
        .map_or_else(|| format!("{method} {route}"), |(_, _, a)| (*a).to_owned())
}

/// `conversation:3`, `account:7`, `user:ext-1`, `context:job/9`... from the route's first id;
/// `None` for routes without one (backup, vacuum).
fn target(route: &str, path: &str) -> Option<String> {
    let names: Vec<&str> = route.trim_start_matches("/api/server/").split('/').collect();
    let values: Vec<&str> = path.trim_start_matches("/api/server/").split('/').collect();
    let first = names.iter().position(|n| n.starts_with('{'))?;
    let kind = match *names.get(first.checked_sub(1)?)? {
        "users" => "user",
        "accounts" => "account",
        "conversations" => "conversation",
        "webhooks" => "webhook",
        "by-context" => return Some(format!("context:{}", values.get(first..)?.join("/"))),
        other => other,
    };
    Some(format!("{kind}:{}", values.get(first)?))
}

/// Records each server API call made with the key (see the module docs).
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let used = KeyUsed::default();
    req.extensions_mut().insert(used.clone());
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let request_id = req.extensions().get::<RequestId>().cloned();
    let (method, path) = (req.method().clone(), req.uri().path().trim_end_matches('/').to_owned());
    let response = next.run(req).await;
    if !used.0.load(Ordering::Relaxed) {
        return response;
    }
    let route = route.unwrap_or_else(|| path.clone());
    let mut details = Map::new();
    details.insert("status".into(), json!(response.status().as_u16()));
    if let Some(AuditNote(Value::Object(more))) = response.extensions().get::<AuditNote>() {
        details.extend(more.clone());
    }
    let mut record = Record::new(Actor::ApiKey, action(&method, &route)).request(request_id.as_ref());
    // A refused call's path may name anything (a mistyped or made-up id): only an answered
    // one's target is kept, so the log never holds what named no one.
    if response.status().is_success() {
        record.target = target(&route, &path);
    }
    state.audit.record(record.details(Value::Object(details))).await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_first_id() {
        let t = |r, p| target(r, p);
        assert_eq!(t("/api/server/accounts/{id}", "/api/server/accounts/7"), Some("account:7".into()));
        assert_eq!(
            t("/api/server/conversations/{id}/members/{external_id}", "/api/server/conversations/3/members/x"),
            Some("conversation:3".into())
        );
        assert_eq!(t("/api/server/users/{external_id}", "/api/server/users/ext-1"), Some("user:ext-1".into()));
        assert_eq!(t("/api/server/backup", "/api/server/backup"), None);
        assert_eq!(
            t(
                "/api/server/conversations/by-context/{kind}/{external_id}",
                "/api/server/conversations/by-context/job/9"
            ),
            Some("context:job/9".into())
        );
    }

    #[test]
    fn unnamed_routes_are_still_recorded() {
        assert_eq!(action(&Method::PATCH, "/api/server/accounts/{id}"), "account.update");
        assert_eq!(action(&Method::POST, "/api/server/new-thing"), "POST /api/server/new-thing");
    }
}
