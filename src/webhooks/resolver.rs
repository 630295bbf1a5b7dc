//! Name resolution for webhook deliveries: in production, the addresses a target's name
//! resolves to must be public (`domain::webhook::is_forbidden`). Checking in the resolver,
//! not before the request, means the address checked is the address connected to: a name
//! that answers a public address to a check and a private one to the connection (DNS
//! rebinding) gets nowhere.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook::is_forbidden;

pub struct PublicOnly {
    /// Development: this machine and private networks are allowed (a local receiver).
    pub development: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let development = self.development;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| development || !is_forbidden(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses; \
                     webhooks go to public addresses"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}
