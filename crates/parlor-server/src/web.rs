//! The web client: the chat app for people (HTML, CSS and JavaScript modules in `web/`),
//! compiled into the binary and served at `/`; `embed.js`, the script host pages include for a
//! "Chat with X" button; and `sw.js`, the service worker (served at the root so its scope is the
//! whole app), with `/app/assets.json`, the list of files it caches for offline use; and the
//! JavaScript SDK (`clients/js/src`) at `/sdk/` (`/sdk/parlor.js`, its types at
//! `/sdk/parlor.d.ts`), which the client is built on and other pages import. No build step: the
//! files are served as written, with ETags for revalidation and a strict
//! Content-Security-Policy (scripts and styles from parlor only; `frame-ancestors` from
//! `web.embed_origins`). docs/web-client.md lists the client's modules.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $content_type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }),*]
    };
}

macro_rules! sdk {
    ($($path:literal => $content_type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../clients/js/src/", $path)),
        }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const TS: &str = "application/typescript; charset=utf-8";
const PNG: &str = "image/png";

/// Served at their own root paths, never under `/app/`.
const ROOT_ONLY: [&str; 3] = ["index.html", "embed.js", "sw.js"];

static ASSETS: &[Asset] = assets![
    "index.html" => "text/html; charset=utf-8",
    "embed.js" => JS,
    "sw.js" => JS,
    "icon.svg" => "image/svg+xml",
    "icon-192.png" => PNG,
    "icon-512.png" => PNG,
    "icon-maskable-512.png" => PNG,
    "manifest.webmanifest" => "application/manifest+json",
    "app.css" => "text/css; charset=utf-8",
    "js/main.js" => JS,
    "js/api.js" => JS,
    "js/store.js" => JS,
    "js/offline.js" => JS,
    "js/util.js" => JS,
    "js/toast.js" => JS,
    "js/login.js" => JS,
    "js/sidebar.js" => JS,
    "js/chat.js" => JS,
    "js/call.js" => JS,
    "js/message.js" => JS,
    "js/message-menu.js" => JS,
    "js/message-dialogs.js" => JS,
    "js/media.js" => JS,
    "js/recorder.js" => JS,
    "js/mentions.js" => JS,
    "js/emoji.js" => JS,
    "js/composer.js" => JS,
    "js/dialogs.js" => JS,
    "js/details.js" => JS,
    "js/profile.js" => JS,
    "js/data-export.js" => JS,
    "js/notifications.js" => JS,
    "js/push.js" => JS,
    "js/theme.js" => JS,
    "js/icons.js" => JS,
    "vendor/emoji-data.js" => JS,
    "vendor/fix-webm-duration.js" => JS,
];

/// The SDK's modules and types, served at `/sdk/<path>` whether or not the web client is on.
static SDK: &[Asset] = sdk![
    "parlor.js" => JS,
    "connection.js" => JS,
    "emitter.js" => JS,
    "endpoints.js" => JS,
    "outbox.js" => JS,
    "password.js" => JS,
    "rest.js" => JS,
    "stores.js" => JS,
    "parlor.d.ts" => TS,
    "endpoints.d.ts" => TS,
    "openapi.d.ts" => TS,
];

/// Routes of the client (none when `web.enabled` is off) and of the SDK.
pub fn router(state: &AppState) -> Router<AppState> {
    let sdk = Router::new().route("/sdk/{file}", get(sdk_file));
    if !state.config.web.enabled {
        return sdk;
    }
    sdk.route("/", get(index))
        .route("/embed.js", get(|headers: HeaderMap| async move { serve("embed.js", &headers, None) }))
        .route("/sw.js", get(|headers: HeaderMap| async move { serve("sw.js", &headers, None) }))
        .route("/app/assets.json", get(asset_list))
        .route("/app/{*path}", get(asset))
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let frame_ancestors = std::iter::once("'self'")
        .chain(state.config.web.embed_origins.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    // Avatars are links to anywhere (host-app claims); everything else comes from parlor itself.
    let csp = format!(
        "default-src 'self'; img-src 'self' data: blob: https: http:; media-src 'self' blob:; \
         connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    );
    serve("index.html", &headers, HeaderValue::from_str(&csp).ok())
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if ROOT_ONLY.contains(&path.as_str()) {
        return ApiError::not_found("route").into_response();
    }
    serve(&path, &headers, None)
}

async fn sdk_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve_from(SDK, sdk_etags(), &file, &headers, None)
}

/// What the service worker caches at install: every file under `/app/`, and the SDK's modules
/// as absolute paths (the page itself, `/`, it adds on its own).
async fn asset_list() -> Response {
    let sdk = SDK.iter().filter(|a| a.content_type == JS).map(|a| format!("/sdk/{}", a.path));
    let paths: Vec<String> =
        ASSETS.iter().map(|a| a.path).filter(|p| !ROOT_ONLY.contains(p)).map(String::from).chain(sdk).collect();
    let mut response = axum::Json(paths).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn serve(path: &str, headers: &HeaderMap, csp: Option<HeaderValue>) -> Response {
    serve_from(ASSETS, etags(), path, headers, csp)
}

fn serve_from(
    assets: &[Asset],
    etags: &[String],
    path: &str,
    headers: &HeaderMap,
    csp: Option<HeaderValue>,
) -> Response {
    let Some(index) = assets.iter().position(|a| a.path == path) else {
        return ApiError::not_found("route").into_response();
    };
    let (asset, etag) = (&assets[index], &etags[index]);
    let mut response = if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response()
    };
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, value);
    }
    // Revalidated on every load (a 304 costs a round trip, not the bytes), so an upgraded
    // binary's client is picked up at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Some(csp) = csp {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| etags_of(ASSETS))
}

fn sdk_etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| etags_of(SDK))
}

fn etags_of(assets: &[Asset]) -> Vec<String> {
    assets
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.bytes);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_client_imports_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for asset in
            ASSETS.iter().filter(|a| a.content_type == JS || a.path == "index.html" || a.path == "manifest.webmanifest")
        {
            let text = std::str::from_utf8(asset.bytes).unwrap_or_default();
            for import in text
                .split(['"', '\''])
                .filter(|s| s.starts_with("./") || s.starts_with("../") || s.starts_with("/app/"))
            {
                let resolved = if let Some(name) = import.strip_prefix("/app/") {
                    name.to_string()
                } else if let Some(name) = import.strip_prefix("../") {
                    name.to_string()
                } else if let Some(name) = import.strip_prefix("./") {
                    if asset.path.starts_with("js/") { format!("js/{name}") } else { name.to_string() }
                } else {
                    continue;
                };
                let served_kinds = [".js", ".css", ".svg", ".png", ".webmanifest"];
                if served_kinds.iter().any(|kind| resolved.ends_with(kind)) {
                    assert!(
                        served.contains(&resolved.as_str()),
                        "{} imports {import}, which is not served",
                        asset.path
                    );
                }
            }
        }
    }

    #[test]
    fn every_file_of_the_client_is_served() {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else if let Ok(relative) = path.strip_prefix(root) {
                    out.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        let missing: Vec<&String> = files.iter().filter(|f| !served.contains(&f.as_str())).collect();
        assert!(missing.is_empty(), "files in web/ that are not in ASSETS: {missing:?}");
    }

    #[test]
    fn every_file_of_the_sdk_is_served_and_so_is_every_sdk_module_the_client_imports() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../clients/js/src");
        let files: Vec<String> = std::fs::read_dir(&root)
            .expect("clients/js/src exists")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let served: Vec<&str> = SDK.iter().map(|a| a.path).collect();
        let missing: Vec<&String> = files.iter().filter(|f| !served.contains(&f.as_str())).collect();
        assert!(missing.is_empty(), "files in clients/js/src that are not in SDK: {missing:?}");
        for asset in ASSETS.iter().chain(SDK).filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.bytes).unwrap_or_default();
            // Module paths only: the service worker also names the `/sdk/` prefix itself.
            for import in text.split(['"', '\'']).filter_map(|s| s.strip_prefix("/sdk/")).filter(|s| s.ends_with(".js"))
            {
                assert!(served.contains(&import), "{} imports /sdk/{import}, which is not served", asset.path);
            }
        }
        for asset in SDK.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.bytes).unwrap_or_default();
            for import in text.split(['"', '\'']).filter_map(|s| s.strip_prefix("./")) {
                assert!(served.contains(&import), "sdk/{} imports ./{import}, which is not served", asset.path);
            }
        }
    }
}
