//! The audit log (issue #24): every admin, moderation and server API action recorded once,
//! with its actor, target and request id, read back through `GET /api/server/audit` with
//! filters and cursor paging, and swept after `audit.retention_days`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{API_KEY, TestApp, WAIT};

/// Every entry, oldest first, as (actor, action, target).
async fn all_entries(app: &TestApp) -> Vec<Value> {
    let (status, page) = app.server(Method::GET, "/api/server/audit?limit=500", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["has_more"], false);
    let mut entries = page["results"].as_array().unwrap().clone();
    entries.reverse();
    entries
}

fn triple(e: &Value) -> (String, String, String) {
    let text = |k: &str| e[k].as_str().unwrap_or("-").to_owned();
    (text("actor"), text("action"), text("target"))
}

fn expect(actor: &str, action: &str, target: &str) -> (String, String, String) {
    (actor.to_owned(), action.to_owned(), target.to_owned())
}

#[tokio::test]
async fn every_audited_action_is_recorded_exactly_once() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let admin = app.register("boss").await;

    // The server API: each call made with the key, whatever it did.
    let (status, _) =
        app.server(Method::PATCH, &format!("/api/server/accounts/{}/", admin.id), json!({"admin": true})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.server(Method::PUT, "/api/server/users/host-9/", json!({"name": "Host Nine"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.server(Method::POST, "/api/server/vacuum", Value::Null).await;
    assert!(status.is_success() || status == StatusCode::NOT_IMPLEMENTED, "{status}");
    // A call the handler refuses is recorded too, with its status.
    let (status, _) = app.server(Method::PATCH, "/api/server/accounts/999999/", json!({"disabled": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A wrong key is not a use of the key: nothing recorded.
    let refused = app.http.post(app.url("/api/server/vacuum")).header("x-api-key", "wrong").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // A server admin moderating in the app.
    let dm = app.dm(&alice, &bob).await;
    let message = app.send_message(&alice, dm, "something to take down").await;
    let message_id = message["id"].as_i64().unwrap();
    let (status, _) = admin.delete(&format!("/api/admin/messages/{message_id}/")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.post(&format!("/api/admin/users/{}/disable/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin.post(&format!("/api/admin/users/{}/enable/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // A refused admin action changes nothing and records nothing.
    let (status, _) = alice.post(&format!("/api/admin/users/{}/disable/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A room's owner moderating the room; leaving it oneself is not moderation.
    // (Bob's old token died with his disabling; Dave is the one who leaves.)
    let dave = app.register("dave").await;
    let ids = json!([bob.id, carol.id, dave.id]);
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room = room["id"].as_i64().unwrap();
    let member = |u: i64| format!("/api/chat/conversations/{room}/members/{u}/");
    let (status, _) = alice.patch(&member(bob.id), json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = alice.delete(&member(carol.id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = dave.post(&format!("/api/chat/conversations/{room}/leave/"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Data rights: a member's retention change, a legal hold, an export, and two erasures (by
    // the person, with their password, and by the platform).
    let retention = format!("/api/chat/conversations/{dm}/retention/");
    let (status, _) = alice.put(&retention, json!({"retention_secs": 86400})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = carol.put(&retention, json!({"retention_secs": 60})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "refused, so not recorded");
    let hold = format!("/api/server/conversations/{dm}/legal-hold/");
    assert_eq!(app.server(Method::PUT, &hold, Value::Null).await.0, StatusCode::NO_CONTENT);
    let (status, _) = carol.post("/api/users/me/export", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let erase = app.http.delete(app.url("/api/users/me")).bearer_auth(&dave.token);
    let erased = erase.json(&json!({"password": "wrong horse"})).send().await.unwrap();
    assert_eq!(erased.status(), StatusCode::FORBIDDEN, "refused, so not recorded");
    let erase = app.http.delete(app.url("/api/users/me")).bearer_auth(&dave.token);
    let erased = erase.json(&json!({"password": "correct horse"})).send().await.unwrap();
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    let (status, _) = app.server(Method::DELETE, "/api/server/users/host-9/", Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let entries = all_entries(&app).await;
    let boss = format!("user:{}", admin.id);
    let owner = format!("user:{}", alice.id);
    let room_target = format!("conversation:{room}");
    assert_eq!(
        entries.iter().map(triple).collect::<Vec<_>>(),
        [
            expect("api_key", "account.update", &format!("account:{}", admin.id)),
            expect("api_key", "user.upsert", "user:host-9"),
            expect("api_key", "server.vacuum", "-"),
            expect("api_key", "account.update", "-"),
            expect(&boss, "message.delete", &format!("message:{message_id}")),
            expect(&boss, "user.disable", &format!("user:{}", bob.id)),
            expect(&boss, "user.enable", &format!("user:{}", bob.id)),
            expect(&owner, "room.role_change", &room_target),
            expect(&owner, "room.member_remove", &room_target),
            expect(&owner, "conversation.retention", &format!("conversation:{dm}")),
            expect("api_key", "conversation.legal_hold", &format!("conversation:{dm}")),
            expect(&format!("user:{}", carol.id), "user.export", &format!("user:{}", carol.id)),
            expect(&format!("user:{}", dave.id), "user.erase", &format!("user:{}", dave.id)),
            expect("api_key", "user.erase", "user:host-9"),
        ],
        "each action once, in order, nothing else: {entries:#?}"
    );
    assert_eq!(entries[0]["details"], json!({"status": 200, "admin": true, "disabled": null}), "the handler's details");
    assert_eq!(entries[3]["details"]["status"], 404, "refused calls carry their status, not the id they named");
    assert_eq!(entries[7]["details"], json!({"user_id": bob.id, "role": "admin"}));
    assert_eq!(entries[8]["details"], json!({"user_id": carol.id}));
    assert_eq!(entries[9]["details"], json!({"retention_secs": 86400}));
    assert!(entries[11]["details"]["export_id"].is_i64(), "{}", entries[11]);
    for e in &entries {
        assert!(e["request_id"].as_str().is_some_and(|r| !r.is_empty()), "every entry has a request id: {e}");
        assert!(e["at"].as_str().is_some(), "and a time: {e}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_callers_request_id_is_recorded_and_echoed() {
    let app = TestApp::spawn().await;
    let answer = app
        .http
        .put(app.url("/api/server/users/host-1"))
        .header("x-api-key", API_KEY)
        .header("x-request-id", "platform-req-42")
        .json(&json!({"name": "One"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["x-request-id"], "platform-req-42", "echoed");
    // An id that is not sane (too long, odd characters) is replaced, never stored as given.
    let odd = "x".repeat(65);
    let answer = app
        .http
        .put(app.url("/api/server/users/host-2"))
        .header("x-api-key", API_KEY)
        .header("x-request-id", &odd)
        .json(&json!({"name": "Two"}))
        .send()
        .await
        .unwrap();
    let given = answer.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(given, odd);
    let entries = all_entries(&app).await;
    assert_eq!(entries[0]["request_id"], "platform-req-42");
    assert_eq!(entries[1]["request_id"], given.as_str(), "the id the answer carried");
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        app.server(Method::PUT, &format!("/api/server/users/host-{n}/"), json!({"name": "Someone"})).await;
    }
    let (_, user) = app.server(Method::PUT, "/api/server/users/host-0/", json!({"name": "Someone"})).await;
    let (status, _) =
        app.server(Method::PATCH, &format!("/api/server/accounts/{}/", user["id"]), json!({"disabled": true})).await;
    assert_eq!(status, StatusCode::OK);

    let api = &app;
    let get = |q: String| async move { api.server(Method::GET, &format!("/api/server/audit?{q}"), Value::Null).await };
    let (_, page) = get("action=user.upsert".into()).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 6, "{page}");
    let (_, page) = get("target=user:host-0".into()).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 2, "{page}");
    let (_, page) = get("action=account.update&actor=api_key".into()).await;
    assert_eq!(page["results"][0]["details"]["disabled"], true, "{page}");
    let (_, page) = get("actor=user:1".into()).await;
    assert_eq!(page["results"], json!([]), "no such actor");

    // Pages of two, newest first, each entry once.
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let q = match cursor {
            Some(c) => format!("action=user.upsert&limit=2&before={c}"),
            None => "action=user.upsert&limit=2".into(),
        };
        let (status, page) = get(q).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["results"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
        if page["has_more"] == false {
            assert!(page["next_cursor"].is_null());
            break;
        }
        cursor = page["next_cursor"].as_i64();
    }
    assert_eq!(seen.len(), 6);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {seen:?}");

    // Times: everything so far is before a minute from now, nothing is after it.
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, page) = get(format!("action=user.upsert&until={later}")).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 6);
    let (_, page) = get(format!("since={later}")).await;
    assert_eq!(page["results"], json!([]));

    for bad in
        ["since=yesterday", "limit=0", "limit=501", "before=x", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"]
    {
        let (status, body) = get(bad.into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let unauthorised = app.http.get(app.url("/api/server/audit")).send().await.unwrap();
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED, "the key is needed to read it");
    app.stop().await;
}

#[tokio::test]
async fn old_entries_are_swept_after_the_retention_period() {
    // Two seconds' retention, swept every second.
    let app = TestApp::spawn_with(|c| {
        c.audit.retention_days = 2.0 / 86_400.0;
        c.attachments.sweep_secs = 1;
    })
    .await;
    app.server(Method::POST, "/api/server/vacuum", Value::Null).await;
    crate::helpers::eventually(WAIT, "the vacuum's entry is swept", || async {
        // Reading is itself recorded; only the vacuum's entry is waited for.
        let (_, page) = app.server(Method::GET, "/api/server/audit?action=server.vacuum", Value::Null).await;
        if page["results"] == json!([]) { Ok(()) } else { Err(page) }
    })
    .await;
    let (_, page) = app.server(Method::GET, "/api/server/audit?action=audit.read", Value::Null).await;
    assert!(!page["results"].as_array().unwrap().is_empty(), "newer entries stay");
    app.stop().await;
}
