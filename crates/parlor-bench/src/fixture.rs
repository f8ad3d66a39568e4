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
        let groups = (0..rooms).map(|r| (r * room_size..(r + 1) * room_size).collect()).collect();
        Fixture::create_groups(target, groups, first_user).await
    }

    /// `rooms` direct conversations among `users` users (`first_user..`), each user in many of
    /// them: more conversations than one machine could hold two sockets each for, as users
    /// with many conversations have. Every user is in one conversation of each `users / 2`
    /// (see [`direct_pair`]), so the conversations spread evenly over the users.
    pub async fn create_direct_among(
        target: &Target,
        rooms: usize,
        users: usize,
        first_user: usize,
    ) -> anyhow::Result<Fixture> {
        anyhow::ensure!(users >= 2 && users.is_multiple_of(2), "--users must be even and at least 2");
        anyhow::ensure!(
            rooms >= 1 && rooms <= users * (users - 1) / 2,
            "{users} users have at most {} distinct direct conversations",
            users * (users - 1) / 2
        );
        let groups = (0..rooms)
            .map(|r| {
                let (a, b) = direct_pair(r, users);
                vec![a, b]
            })
            .collect();
        Fixture::create_groups(target, groups, first_user).await
    }

    /// One conversation per group of user indexes (relative to `first_user`); the group's first
    /// user creates it: a direct conversation for two, a room above.
    async fn create_groups(target: &Target, groups: Vec<Vec<usize>>, first_user: usize) -> anyhow::Result<Fixture> {
        let http = reqwest::Client::new();
        let users = groups.iter().flatten().max().map_or(0, |&max| max + 1);
        let tokens: Vec<String> =
            (first_user..first_user + users).map(|i| token(target, i)).collect::<anyhow::Result<_>>()?;
        let ids: Vec<i64> =
            stream::iter(tokens.iter().map(|t| user_id(&http, target, t))).buffered(32).try_collect().await?;
        let conversations = stream::iter(groups.iter().enumerate().map(|(r, group)| {
            let (http, tokens, ids) = (&http, &tokens, &ids);
            async move {
                let others: Vec<i64> = group[1..].iter().map(|&i| ids[i]).collect();
                let id = conversation(http, target, &tokens[group[0]], &others, r).await?;
                let members =
                    group.iter().map(|&i| FixtureMember { user_id: ids[i], token: tokens[i].clone() }).collect();
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

/// The two users (indexes below `users`, an even number) of the `r`-th direct conversation:
/// the circle method of round-robin tournaments. Round `r / (users / 2)` pairs every user with
/// exactly one other, and no pair repeats across the `users - 1` rounds.
pub fn direct_pair(r: usize, users: usize) -> (usize, usize) {
    let last = users - 1;
    let (round, j) = (r / (users / 2), r % (users / 2));
    if j == 0 { (round % last, last) } else { ((round + j) % last, (round + last - j) % last) }
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::direct_pair;

    #[test]
    fn direct_pairs_are_distinct_and_each_round_pairs_every_user_once() {
        let users = 10;
        let pairs: Vec<(usize, usize)> = (0..users * (users - 1) / 2).map(|r| direct_pair(r, users)).collect();
        let distinct: HashSet<(usize, usize)> = pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        assert_eq!(distinct.len(), pairs.len());
        assert!(pairs.iter().all(|&(a, b)| a != b && a < users && b < users));
        for round in pairs.chunks(users / 2) {
            let seen: HashSet<usize> = round.iter().flat_map(|&(a, b)| [a, b]).collect();
            assert_eq!(seen.len(), users);
        }
    }
}
