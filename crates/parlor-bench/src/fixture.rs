//! Setting up a load: signing host-app tokens for synthetic users, creating their
//! conversations, and the fixture file that carries both to the generator (the format seed 001's
//! Django peer writes with `manage.py make_fixture`, so one generator drives both servers).

use std::path::Path;

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use jsonwebtoken::{EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Target;

/// Conversations with their members' tokens, and the WebSocket URL template to reach them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fixture {
    /// e.g. `ws://127.0.0.1:8000/ws/chat/{conversation_id}/?token={token}`
    pub ws_url: String,
    pub conversations: Vec<FixtureConversation>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FixtureConversation {
    pub id: i64,
    pub members: Vec<FixtureMember>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FixtureMember {
    pub user_id: i64,
    pub token: String,
}

impl Fixture {
    pub fn read(path: &Path) -> anyhow::Result<Fixture> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let fixture: Fixture = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        anyhow::ensure!(
            fixture.conversations.iter().all(|c| c.members.len() >= 2),
            "every conversation in the fixture needs at least two members"
        );
        Ok(fixture)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }

    /// The socket URL for one member: the template filled in.
    pub fn socket_url(&self, conversation: i64, token: &str) -> String {
        self.ws_url.replace("{conversation_id}", &conversation.to_string()).replace("{token}", token)
    }

    /// `rooms` conversations of `room_size` users on a parlor server (users `first_user..`):
    /// direct conversations for two members, rooms above.
    pub async fn create(target: &Target, rooms: usize, room_size: usize, first_user: usize) -> anyhow::Result<Fixture> {
        anyhow::ensure!(room_size >= 2 && rooms >= 1, "need rooms >= 1 and room_size >= 2");
        let http = reqwest::Client::new();
        let users = rooms * room_size;
        let tokens: Vec<String> =
            (first_user..first_user + users).map(|i| token(target, i)).collect::<anyhow::Result<_>>()?;
        let ids: Vec<i64> =
            stream::iter(tokens.iter().map(|t| user_id(&http, target, t))).buffered(32).try_collect().await?;
        let conversations = stream::iter((0..rooms).map(|r| {
            let (http, tokens, ids) = (&http, &tokens, &ids);
            async move {
                let span = r * room_size..(r + 1) * room_size;
                let id = conversation(http, target, &tokens[span.start], &ids[span.start + 1..span.end], r).await?;
                let members = span.map(|i| FixtureMember { user_id: ids[i], token: tokens[i].clone() }).collect();
                anyhow::Ok(FixtureConversation { id, members })
            }
        }))
        .buffered(8)
        .try_collect()
        .await?;
        let ws_url = format!("{}/ws/chat/{{conversation_id}}/?token={{token}}", ws_base(&target.url));
        Ok(Fixture { ws_url, conversations })
    }
}

/// A host-app token for user `index` (created by the server on first sight).
pub fn token(target: &Target, index: usize) -> anyhow::Result<String> {
    anyhow::ensure!(
        !target.jwt_secret.is_empty(),
        "--jwt-secret (or PARLOR_JWT_SECRET) is needed to sign users' tokens"
    );
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
async fn conversation(
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
