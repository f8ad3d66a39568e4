//! Setting up a load: signing host-app tokens for synthetic users and creating their rooms.

use anyhow::{Context, bail};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::Target;

/// A host-app token for user `index` (created by the server on first sight).
pub fn token(target: &Target, index: usize) -> anyhow::Result<String> {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 24 * 3600;
    let claims =
        json!({"sub": format!("{}-{index}", target.user_prefix), "name": format!("Bench {index}"), "exp": exp});
    Ok(jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(target.jwt_secret.as_bytes()))?)
}

/// The parlor user id behind a token (the server creates the user on this first call).
pub async fn user_id(http: &reqwest::Client, target: &Target, token: &str) -> anyhow::Result<i64> {
    let me: Value = http
        .get(format!("{}/api/users/me", target.url))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    me["id"].as_i64().context("no user id in /api/users/me")
}

/// A conversation owned by `owner` with `members`: a DM for one other member, else a room.
pub async fn conversation(
    http: &reqwest::Client,
    target: &Target,
    owner: &str,
    members: &[i64],
    n: usize,
) -> anyhow::Result<i64> {
    let response = if members.len() == 1 {
        http.post(format!("{}/api/chat/conversations/", target.url))
            .bearer_auth(owner)
            .json(&json!({"user_id": members[0]}))
    } else {
        let body = json!({"title": format!("bench room {n}"), "members": members});
        http.post(format!("{}/api/chat/rooms/", target.url)).bearer_auth(owner).json(&body)
    }
    .send()
    .await?;
    if !response.status().is_success() {
        bail!("creating conversation {n}: {} {}", response.status(), response.text().await.unwrap_or_default());
    }
    let view: Value = response.json().await?;
    view["id"].as_i64().context("no conversation id")
}

/// `ws://` for an `http://` base URL.
pub fn ws_base(url: &str) -> String {
    url.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1)
}
