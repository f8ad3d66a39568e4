//! Name resolution for outbound requests that checks every address at connect time: a name
//! that resolved to a public address when it was registered may point inside the network by
//! the time a request is made (DNS rebinding, or a record simply changed). reqwest calls this
//! for every new connection; addresses written in the URL never reach it and are checked by
//! [`super::Outbound::target`] instead.

use std::net::SocketAddr;

use http_client::dns::{Addrs, Name, Resolve, Resolving};

use super::{Refused, address};

/// Resolves with the system resolver, then refuses the whole answer if any address in it is
/// not public: a name that mixes public and private addresses has no business being a target.
pub(super) struct CheckedResolver {
    /// The setting that would allow private targets, named in the refusal.
    pub setting: &'static str,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let setting = self.setting;
        Box::pin(async move {
            let addrs = resolve_public(&host, setting).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The host's addresses (port 0: the caller's URL decides the port), all of them public.
pub(super) async fn resolve_public(host: &str, setting: &'static str) -> Result<Vec<SocketAddr>, Refused> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, 0)).await.map_err(|_| Refused::DoesNotResolve)?.collect();
    if addrs.is_empty() {
        return Err(Refused::DoesNotResolve);
    }
    match addrs.iter().find_map(|a| address::not_public(a.ip())) {
        Some(class) => Err(Refused::NotPublic { class, setting }),
        None => Ok(addrs),
    }
}
