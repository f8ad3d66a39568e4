//! The admin CLI's one door to a running server: JSON calls to the server API with the API
//! key, where any answer but a success becomes an error carrying the server's own message.

use std::time::Duration;

use anyhow::{Context, bail};
use http_client::{Method, StatusCode};
use parlor_protocol::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long to wait for a connection: a server that is not there should fail fast. Requests
/// themselves may take long (a backup of a big database), so they have no overall timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ServerApi {
    http: http_client::Client,
    base: String,
    key: String,
}

impl ServerApi {
    pub fn new(url: &str, key: Option<String>) -> anyhow::Result<Self> {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            bail!("no API key: pass --api-key or set PARLOR_API_KEY (the server's `api_key`)");
        };
        let http = http_client::Client::builder().connect_timeout(CONNECT_TIMEOUT).build()?;
        Ok(Self { http, base: url.trim_end_matches('/').to_owned(), key })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.call(Method::GET, path, None::<&()>).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> anyhow::Result<T> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> anyhow::Result<T> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// The answer's bytes as they are (a signed transcript, which must not be re-encoded).
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        self.send(Method::GET, path, None::<&()>).await
    }

    /// A call answered with no content (204).
    pub async fn post_empty(&self, path: &str) -> anyhow::Result<()> {
        self.send(Method::POST, path, None::<&()>).await.map(drop)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<T> {
        let bytes = self.send(method, path, body).await?;
        serde_json::from_slice(&bytes).with_context(|| format!("unexpected answer from {path}"))
    }

    async fn send(&self, method: Method, path: &str, body: Option<&impl Serialize>) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).header("x-api-key", &self.key);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(serde_json::to_vec(body)?);
        }
        let response = request.send().await.with_context(|| format!("cannot reach parlor at {}", self.base))?;
        let status = response.status();
        let bytes = response.bytes().await.with_context(|| format!("reading the answer from {url}"))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        bail!("{}", failure(status, &bytes))
    }
}

/// The server's message and code when it sent its error body, the status alone otherwise.
fn failure(status: StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => format!("{} ({} {})", e.message, status.as_u16(), e.code.as_str()),
        Err(_) => format!("the server answered {status}"),
    }
}
