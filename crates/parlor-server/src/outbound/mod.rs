//! The outbound-address guard: every request parlor makes to a URL someone else chose (webhook
//! endpoints, Web Push endpoints, JWKS and token-introspection URLs) goes through an
//! [`Outbound`], so none of them can be pointed at parlor's own network (SSRF). Written once,
//! used by each feature with its own setting to allow private targets.
//!
//! Three checks, each where it cannot be dodged:
//! - **At registration**, [`Outbound::vet`]: an `http(s)` URL with a host; an address written in
//!   it (in any spelling: `2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`, which the
//!   WHATWG parser turns into the address they mean) must be public, and so must every address
//!   its name resolves to now. A name that does not resolve yet is accepted: the next check
//!   catches it once it does.
//! - **Before every request**, [`Outbound::target`]: the same without the lookup, so a target
//!   registered while private ones were allowed is refused once they are not.
//! - **At every connection**, the client's resolver (`resolver.rs`) re-checks what the name
//!   resolves to then, so a DNS record changed since registration (or rebinding) gains nothing.
//!
//! The client follows no redirects (a public URL answering `302 Location: http://10.0.0.1/`
//! would otherwise reach inside), ignores proxy environment variables (a proxy would resolve the
//! name where this guard cannot see), and bounds every request with a timeout.
//!
//! Using it: a feature builds one [`Outbound`] from an [`OutboundSettings`] (its
//! `*.allow_private_targets` setting and that setting's name, a timeout, a user agent; see
//! `WebhookSettings::outbound`), then calls `vet(url).await` when a URL is registered
//! ([`Refused`] says the class of address and the setting, never the address), `target(url)`
//! before every request, and `post`/`get`/`request(&Target)` for a reqwest `RequestBuilder` on
//! its client. `address.rs` says which addresses are public (`not_public`).

mod address;
mod resolver;

use std::time::Duration;

use http_client::{Method, RequestBuilder, Url};

pub use address::not_public;

/// How one feature's [`Outbound`] is set up.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// The feature's setting that allows private targets, named in refusals
    /// (e.g. `webhooks.allow_private_targets`).
    pub setting: &'static str,
    /// Its value: true turns the address checks off (a backend on a private network).
    pub allow_private_targets: bool,
    /// Longest a whole request may take, connecting included.
    pub timeout: Duration,
    pub user_agent: &'static str,
}

/// Why a URL is not a target parlor will call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be an http or https URL with a host")]
    NotHttp,
    /// The class of address (`"loopback"`, `"private"`...), never the address itself: the
    /// message may reach whoever registered the URL, who need not learn the internal network.
    #[error("points to a {class} address; only public addresses are allowed unless `{setting}` is set")]
    NotPublic { class: &'static str, setting: &'static str },
    #[error("the host name does not resolve")]
    DoesNotResolve,
}

/// A URL that passed [`Outbound::target`] or [`Outbound::vet`]; requests take only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(Url);

impl Target {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// One feature's HTTP client and address policy. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct Outbound {
    client: http_client::Client,
    setting: &'static str,
    allow_private: bool,
    timeout: Duration,
}

impl Outbound {
    pub fn new(settings: &OutboundSettings) -> Result<Self, http_client::Error> {
        let mut builder = http_client::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(http_client::redirect::Policy::none())
            .no_proxy()
            .user_agent(settings.user_agent);
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(resolver::CheckedResolver { setting: settings.setting });
        }
        Ok(Self {
            client: builder.build()?,
            setting: settings.setting,
            allow_private: settings.allow_private_targets,
            timeout: settings.timeout,
        })
    }

    /// The check before every request: an `http(s)` URL with a host, and a public address if
    /// the host is one. Names are checked when the client connects.
    pub fn target(&self, raw: &str) -> Result<Target, Refused> {
        let url = Url::parse(raw.trim()).map_err(|_| Refused::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::NotHttp);
        }
        let literal = match url.host() {
            None => return Err(Refused::NotHttp),
            Some(url::Host::Domain(_)) => None,
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
        };
        if let Some(class) = literal.filter(|_| !self.allow_private).and_then(not_public) {
            return Err(self.not_public(class));
        }
        Ok(Target(url))
    }

    /// The check at registration: [`Outbound::target`], and every address the name resolves
    /// to now must be public. A name that does not resolve (yet), or whose lookup takes longer
    /// than the timeout, is accepted; connecting checks it again.
    pub async fn vet(&self, raw: &str) -> Result<Target, Refused> {
        let target = self.target(raw)?;
        if self.allow_private {
            return Ok(target);
        }
        if let Some(url::Host::Domain(name)) = target.0.host() {
            let lookup = resolver::resolve_public(name, self.setting);
            // Only a refusal counts here: no answer (yet) is for the connect-time check.
            if let Ok(Err(refused @ Refused::NotPublic { .. })) = tokio::time::timeout(self.timeout, lookup).await {
                return Err(refused);
            }
        }
        Ok(target)
    }

    pub fn request(&self, method: Method, target: &Target) -> RequestBuilder {
        self.client.request(method, target.0.clone())
    }

    pub fn post(&self, target: &Target) -> RequestBuilder {
        self.request(Method::POST, target)
    }

    pub fn get(&self, target: &Target) -> RequestBuilder {
        self.request(Method::GET, target)
    }

    /// Sends `request` and reads its answer: a 2xx of at most `max_bytes`, or why not, in words
    /// that never name the URL (it may carry a secret). For the features that read what the other
    /// side says (JWKS, introspection, user info); webhooks only look at the status.
    pub async fn answer(request: RequestBuilder, max_bytes: usize) -> Result<Vec<u8>, String> {
        let mut response = request.send().await.map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url().to_string())? {
            if body.len() + chunk.len() > max_bytes {
                return Err(format!("answered more than {max_bytes} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn not_public(&self, class: &'static str) -> Refused {
        Refused::NotPublic { class, setting: self.setting }
    }
}
