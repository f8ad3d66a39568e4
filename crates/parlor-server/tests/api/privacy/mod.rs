//! Data rights end to end (docs/privacy.md): erasing an account leaves nothing of the person in
//! any table or file, and everyone else a coherent history; retention and disappearing
//! messages; the legal hold that stops both.

mod erasure;
mod export;
mod retention;
mod schema;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// `DELETE /api/users/me`, with a JSON body when given one.
async fn delete_me(app: &TestApp, user: &TestUser, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = app.http.delete(app.url("/api/users/me")).bearer_auth(&user.token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let response = req.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn room(owner: &TestUser, members: &[&TestUser]) -> i64 {
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let (status, body) = owner.post("/api/chat/rooms", json!({"title": "Crew", "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "create room: {body}");
    body["id"].as_i64().unwrap()
}

async fn history(user: &TestUser, conversation: i64) -> Vec<Value> {
    let (status, body) = user.get(&format!("/api/chat/conversations/{conversation}/messages?limit=100")).await;
    assert_eq!(status, StatusCode::OK, "history: {body}");
    body["results"].as_array().unwrap().clone()
}

fn by_id(messages: &[Value], id: &Value) -> Value {
    messages.iter().find(|m| m["id"] == *id).cloned().unwrap_or_else(|| panic!("message {id} in {messages:?}"))
}
