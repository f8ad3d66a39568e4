//! The compatibility layer: the seeds' own clients (docs/compat.md) work against parlor
//! unchanged, each in its dialect (paths, frames, field names), as a thin translation over
//! parlor's services. Seed 001 needs none of it: parlor's own API speaks it.
//!
//! **Invariant:** the core knows nothing of this module. It is mounted around parlor's router
//! (`mount`); with `compat.seeds = []` nothing of it exists, and parlor's own requests never
//! reach it: a request goes to the seeds' routes first only when it speaks their dialect (a
//! UUID-shaped id in its path, or on `/api/` a credential only the platform checks:
//! `Authorization: Token`, the session cookie); otherwise parlor answers, and only a path
//! parlor does not know falls through to the seeds' routes.

mod frames;
mod ids;
mod seed000;
mod seed002;
mod seed003;
mod seed004;
mod settings;
mod shared;
mod socket;
mod views;

pub use settings::CompatSettings;

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use hmac::{Hmac, Mac};
use parlor_core::{User, UserId};
use rand::RngCore;
use sha2::Sha256;
use tower::ServiceExt;

use self::ids::{Kind, OpaqueIds, SeedId, UserRef};
use crate::auth::bearer_token;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What every handler of the layer shares (an `Extension` on its routes, not in `AppState`).
pub struct Compat {
    /// The platform names users (host-app mode or introspection): its ids are the seeds'.
    platform: bool,
    /// Conversations and messages are UUID-shaped even on paths seed 004 shares with others
    /// (only 004 is on); on 004's own paths they always are.
    uuid_everywhere: bool,
    ids: OpaqueIds,
}

impl Compat {
    fn user_ref(&self, user: &User) -> UserRef {
        ids::user_ref(user, self.platform)
    }

    /// `id` of `kind` as a seed's client sees it: UUID-shaped on seed 004's paths (`uuid`).
    fn id(&self, uuid: bool, kind: Kind, id: i64) -> SeedId {
        match self.ids.encode(kind, id).filter(|_| uuid || self.uuid_everywhere) {
            Some(name) => SeedId::Text(name),
            None => SeedId::Number(id),
        }
    }

    /// A conversation or message id from a seed's path or body: an integer, or a UUID-shaped
    /// name this server made. Anything else is the same 404 as a conversation that is not yours.
    fn parse_id(&self, kind: Kind, raw: &str) -> ApiResult<i64> {
        let what = match kind {
            Kind::Conversation => "conversation",
            Kind::Message => "message",
        };
        if let Ok(id) = raw.parse::<i64>() {
            return Ok(id);
        }
        self.ids.decode(kind, raw).ok_or_else(|| ApiError::not_found(what))
    }

    /// The user a seed's client names: the platform's id in platform mode (created on first
    /// reference, as "Chat with 42" does), else parlor's.
    async fn user_named(&self, state: &AppState, raw: &str) -> ApiResult<User> {
        if self.platform {
            return state.accounts.platform_user_by_reference(raw).await;
        }
        let id = raw.parse::<i64>().map_err(|_| ApiError::not_found("user"))?;
        state.accounts.user(UserId(id)).await
    }

    /// How the client names the user with parlor id `id`.
    async fn user_ref_of(&self, state: &AppState, id: UserId) -> UserRef {
        if !self.platform {
            return UserRef::Number(id.0);
        }
        match state.accounts.user(id).await {
            Ok(user) => self.user_ref(&user),
            Err(_) => UserRef::Number(id.0),
        }
    }
}

/// Mounts the seeds' routes around parlor's (`core`, every route but no fallback).
pub fn mount(core: Router<AppState>, state: &AppState) -> Router<AppState> {
    let not_found = || async { ApiError::not_found("route") };
    let settings = &state.config.compat;
    if settings.seeds.is_empty() {
        return core.fallback(not_found);
    }
    let compat = Arc::new(Compat {
        platform: state.tokens.host_app(),
        uuid_everywhere: settings.seeds == ["004"],
        ids: OpaqueIds::new(id_key(&state.config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot keep seed 004's id key in the data dir: its ids change at restart");
            random_key()
        })),
    });
    let parlor_only: Router = core.clone().fallback(not_found).with_state(state.clone());
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(state.config.attachments.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20),
    );
    // Paths several seeds share are routed once, each method to the handler that answers all.
    let on = |seed: &str| settings.enabled(seed);
    let mut list = get(shared::conversations);
    if on("004") {
        list = list.post(seed004::create);
    }
    let mut seeds = Router::new().route("/api/chat/conversations", list);
    let mut one = MethodRouter::new();
    if on("003") || on("004") {
        one = one.get(shared::conversation);
    }
    if on("000") {
        one = one.post(seed000::open_with);
    }
    if on("000") || on("003") || on("004") {
        seeds = seeds.route("/api/chat/conversations/{id}", one);
    }
    if on("000") || on("004") {
        seeds = seeds.route("/api/chat/conversations/{id}/messages", get(shared::messages).post(seed000::send_text));
    }
    if on("000") {
        seeds = seed000::routes(seeds, upload_limit);
    }
    if on("002") {
        seeds = seed002::routes(seeds, upload_limit);
    }
    if on("002") || on("003") {
        seeds = seeds.route("/ws/chat", get(socket::unified));
    }
    if on("003") {
        seeds = seed003::routes(seeds);
    }
    if on("004") {
        seeds = seed004::routes(seeds);
    }
    let seeds_first: Router = seeds
        .route_layer(axum::middleware::from_fn(crate::observability::note_route))
        .layer(axum::Extension(compat))
        .fallback_service(parlor_only.clone())
        .method_not_allowed_fallback(move |request: Request| {
            let parlor = parlor_only.clone();
            async move { parlor.oneshot(unrouted(request)).await }
        })
        .with_state(state.clone());
    let seeds_for_method = seeds_first.clone();
    let parlor_first: Router = core
        .fallback_service(seeds_first.clone())
        // A path parlor has, with a method only a seed has (POST .../conversations/<user_id>/).
        .method_not_allowed_fallback(move |request: Request| {
            let seeds = seeds_for_method.clone();
            async move { seeds.oneshot(unrouted(request)).await }
        })
        .with_state(state.clone());
    let cookie = state.config.auth.session_cookie.clone();
    let uuid_paths = settings.enabled("004");
    let dispatch = tower::service_fn(move |mut request: Request<Body>| {
        let seeds = speaks_seed(&request, &cookie, uuid_paths);
        let original = request.extensions().clone();
        request.extensions_mut().insert(Unrouted(original));
        let route = if seeds { seeds_first.clone() } else { parlor_first.clone() };
        async move { Ok::<Response, Infallible>(route.oneshot(request).await.unwrap_or_else(|never| match never {})) }
    });
    Router::new().fallback_service(dispatch)
}

/// A request's extensions as they came in, before a router matched it. A router that matched the
/// path but not the method leaves its path parameters in the request; the router it hands the
/// request on to would add its own and find two (a 500 for `POST /api/chat/conversations/1`).
#[derive(Clone)]
struct Unrouted(axum::http::Extensions);

/// The request as the next router should see it: the extensions it came in with (its peer
/// address, the body limit), none of the previous router's.
fn unrouted(request: Request) -> Request {
    let (mut parts, body) = request.into_parts();
    if let Some(Unrouted(original)) = parts.extensions.get::<Unrouted>().cloned() {
        parts.extensions = original.clone();
        parts.extensions.insert(Unrouted(original));
    }
    Request::from_parts(parts, body)
}

/// Whether a request is in a seed's dialect: seed 004's UUID-shaped ids in the path, or on the
/// REST API a credential only the platform checks (parlor's own clients send Bearer tokens).
fn speaks_seed(request: &Request<Body>, cookie: &str, uuid_paths: bool) -> bool {
    let path = request.uri().path();
    if uuid_paths && path.split('/').any(ids::uuid_shaped) {
        return true;
    }
    if !path.starts_with("/api/") || bearer_token(request.headers()).is_some() {
        return false;
    }
    let headers = request.headers();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("token "));
    token || crate::auth::platform_credential(headers, cookie).is_some()
}

/// The key of seed 004's ids: `compat.id_secret`, else derived from `token_secret` (which
/// several nodes share), else one made on first start in the data directory.
fn id_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = config.compat.id_secret.get() {
        return Ok(secret.as_bytes().to_vec());
    }
    if let Some(secret) = config.token_secret.get() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .map_err(|_| anyhow::anyhow!("an HMAC key of any length is accepted"))?;
        mac.update(b"parlor compat ids");
        return Ok(mac.finalize().into_bytes().to_vec());
    }
    load_or_create_key(&config.data_dir.join("compat.key"))
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(key) = std::fs::read(path)
        && key.len() >= 32
    {
        return Ok(key);
    }
    let key = random_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, &key)?;
    Ok(key)
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}
