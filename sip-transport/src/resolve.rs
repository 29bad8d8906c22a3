//! Finding the server's addresses: DNS SRV (RFC 3263 §4.2, RFC 2782) for `sip:`/`sips:`
//! targets named by a domain without a port, A/AAAA otherwise.
//!
//! NAPTR (RFC 3263 §4.1) is not consulted: the transport is taken from the URI (`transport=`,
//! `sips:`), so only the SRV step of RFC 3263 applies. WebSocket URLs are resolved with A/AAAA,
//! as browsers do.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use rand::Rng;
use tokio::sync::OnceCell;

use crate::error::{Error, Result};
use crate::flow::TransportKind;
use crate::target::Target;

/// How long one DNS query may take before SRV is given up for A/AAAA.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// One SRV answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// The DNS side of a transport: a resolver made on first use.
#[derive(Debug)]
pub(crate) struct Dns {
    servers: Vec<SocketAddr>,
    resolver: OnceCell<Option<TokioResolver>>,
}

impl Dns {
    /// `servers` empty means the system's resolver configuration.
    pub fn new(servers: Vec<SocketAddr>) -> Self {
        Dns {
            servers,
            resolver: OnceCell::new(),
        }
    }

    async fn resolver(&self) -> Option<&TokioResolver> {
        self.resolver
            .get_or_init(|| async {
                match build_resolver(&self.servers) {
                    Ok(resolver) => Some(resolver),
                    Err(error) => {
                        tracing::debug!(%error, "no DNS resolver for SRV lookups; using A/AAAA only");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// The addresses to try for `target`, in order.
    pub async fn addresses(&self, target: &Target) -> Result<Vec<SocketAddr>> {
        if let Some(service) = srv_service(target) {
            let records = self.srv(&service).await;
            if !records.is_empty() {
                let mut addrs = Vec::new();
                let mut last_error = None;
                for record in order_srv(records) {
                    match lookup_host(&record.target, record.port).await {
                        Ok(found) => addrs.extend(found),
                        Err(error) => last_error = Some(error),
                    }
                }
                if addrs.is_empty() {
                    return Err(last_error.unwrap_or(Error::Resolve {
                        host: service,
                        reason: "no address".into(),
                    }));
                }
                tracing::debug!(%service, ?addrs, "resolved through SRV");
                return Ok(addrs);
            }
        }
        target.resolve().await
    }

    async fn srv(&self, service: &str) -> Vec<SrvRecord> {
        let Some(resolver) = self.resolver().await else {
            return Vec::new();
        };
        match resolver.srv_lookup(service).await {
            Ok(lookup) => lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some(SrvRecord {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv.target.to_ascii().trim_end_matches('.').to_owned(),
                    }),
                    _ => None,
                })
                // A target of "." means the service is not offered there (RFC 2782).
                .filter(|r| !r.target.is_empty())
                .collect(),
            Err(error) => {
                tracing::debug!(%service, %error, "no SRV records");
                Vec::new()
            }
        }
    }
}

fn build_resolver(servers: &[SocketAddr]) -> std::result::Result<TokioResolver, String> {
    let mut builder = if servers.is_empty() {
        TokioResolver::builder_tokio().map_err(|e| e.to_string())?
    } else {
        let name_servers = servers
            .iter()
            .map(|addr| {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
            })
            .collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(name_servers),
            TokioRuntimeProvider::default(),
        )
    };
    builder.options_mut().timeout = DNS_TIMEOUT;
    builder.options_mut().attempts = 1;
    builder.build().map_err(|e| e.to_string())
}

/// The SRV name to query, when RFC 3263 says to: a `sip:`/`sips:` target with a domain name
/// and no explicit port.
pub(crate) fn srv_service(target: &Target) -> Option<String> {
    if target.port_given || target.host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let prefix = match target.kind {
        TransportKind::Udp => "_sip._udp",
        TransportKind::Tcp => "_sip._tcp",
        TransportKind::Tls => "_sips._tcp",
        _ => return None,
    };
    Some(format!("{prefix}.{}.", target.host.trim_end_matches('.')))
}

/// RFC 2782 order: lowest priority first; within a priority, a weighted random order.
pub(crate) fn order_srv(mut records: Vec<SrvRecord>) -> Vec<SrvRecord> {
    records.sort_by_key(|r| r.priority);
    let mut ordered = Vec::with_capacity(records.len());
    let mut rng = rand::rng();
    while !records.is_empty() {
        let priority = records[0].priority;
        let end = records
            .iter()
            .position(|r| r.priority != priority)
            .unwrap_or(records.len());
        let mut group: Vec<SrvRecord> = records.drain(..end).collect();
        while !group.is_empty() {
            // Weight 0 still gets a small chance (RFC 2782: "a very small chance").
            let total: u32 = group.iter().map(|r| u32::from(r.weight) + 1).sum();
            let mut pick = rng.random_range(0..total);
            let index = group
                .iter()
                .position(|r| {
                    let w = u32::from(r.weight) + 1;
                    if pick < w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    ordered
}

async fn lookup_host(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let resolve_error = |reason: String| Error::Resolve {
        host: host.to_owned(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| resolve_error(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(resolve_error("no address".into()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(priority: u16, weight: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 5060,
            target: target.into(),
        }
    }

    #[test]
    fn srv_only_for_domains_without_a_port() {
        let name = |text: &str| srv_service(&Target::parse(text).unwrap());
        assert_eq!(
            name("sip:example.com").as_deref(),
            Some("_sip._udp.example.com.")
        );
        assert_eq!(
            name("sip:example.com;transport=tcp").as_deref(),
            Some("_sip._tcp.example.com.")
        );
        assert_eq!(
            name("sips:example.com").as_deref(),
            Some("_sips._tcp.example.com.")
        );
        assert_eq!(name("sip:example.com:5070"), None);
        assert_eq!(name("sip:192.0.2.1"), None);
        assert_eq!(name("wss://example.com/ws"), None);
    }

    #[test]
    fn lower_priority_first_and_weights_respected() {
        let records = vec![
            srv(20, 0, "backup"),
            srv(10, 90, "big"),
            srv(10, 10, "small"),
        ];
        let mut big_first = 0;
        for _ in 0..400 {
            let ordered = order_srv(records.clone());
            assert_eq!(ordered.len(), 3);
            assert_eq!(ordered[2].target, "backup");
            if ordered[0].target == "big" {
                big_first += 1;
            }
        }
        // Expected share 91/102 ≈ 89 %; allow a wide margin.
        assert!((300..=395).contains(&big_first), "{big_first}");
    }
}
