//! Transport targets: `ws://` and `wss://` URLs and `sip:`/`sips:` URIs with `transport=`.

use std::net::SocketAddr;

use crate::error::{Error, Result};
use crate::flow::TransportKind;

/// Where to connect: the transport kind, host, port and, for WebSocket, the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport protocol.
    pub kind: TransportKind,
    /// The host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The port (the kind's default when the URL or URI has none).
    pub port: u16,
    /// Whether the port was written in the URL or URI (else it is the default, and a
    /// `sip:`/`sips:` domain is looked up with DNS SRV first).
    pub port_given: bool,
    /// For WebSocket: the whole URL (with path and query) used in the handshake.
    pub url: Option<String>,
}

impl Target {
    /// Parses `ws://host[:port]/path?query`, `wss://...`, `sip:host[:port][;transport=udp|tcp|tls]`
    /// or `sips:host[:port]`. A `sip:` URI without `transport` means UDP (RFC 3261 §18).
    pub fn parse(text: &str) -> Result<Target> {
        let invalid = |reason: &str| Error::InvalidTarget {
            target: text.to_owned(),
            reason: reason.to_owned(),
        };
        let lower = text.trim().to_ascii_lowercase();
        if lower.starts_with("ws://") || lower.starts_with("wss://") {
            let url = url::Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
            let kind = if url.scheme() == "wss" {
                TransportKind::Wss
            } else {
                TransportKind::Ws
            };
            let host = match url.host() {
                Some(url::Host::Domain(d)) => d.to_owned(),
                Some(url::Host::Ipv4(ip)) => ip.to_string(),
                Some(url::Host::Ipv6(ip)) => ip.to_string(),
                None => return Err(invalid("no host")),
            };
            let port = url.port().unwrap_or(kind.default_port());
            return Ok(Target {
                kind,
                host,
                port,
                port_given: url.port().is_some(),
                url: Some(url.to_string()),
            });
        }
        let (secure, rest) = if let Some(rest) = strip_prefix_ci(text.trim(), "sips:") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ci(text.trim(), "sip:") {
            (false, rest)
        } else {
            return Err(invalid("expected ws://, wss://, sip: or sips:"));
        };
        // Drop any user part, headers, and split off the parameters.
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let rest = rest.split('?').next().unwrap_or(rest);
        let mut parts = rest.split(';');
        let hostport = parts.next().unwrap_or_default();
        let mut transport = None;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("transport")
            {
                transport = Some(value.trim().to_ascii_lowercase());
            }
        }
        let kind = match (secure, transport.as_deref()) {
            (true, None | Some("tcp") | Some("tls")) => TransportKind::Tls,
            (true, Some(_)) => return Err(invalid("sips: needs a TLS transport")),
            (false, None | Some("udp")) => TransportKind::Udp,
            (false, Some("tcp")) => TransportKind::Tcp,
            (false, Some("tls")) => TransportKind::Tls,
            (false, Some(other)) => {
                return Err(invalid(&format!(
                    "unsupported transport {other:?} (use a ws:// URL for WebSocket)"
                )));
            }
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| invalid("bad host or port"))?;
        Ok(Target {
            kind,
            host,
            port: port.unwrap_or(kind.default_port()),
            port_given: port.is_some(),
            url: None,
        })
    }

    /// `host:port`, with brackets around an IPv6 address.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves the host to socket addresses (A/AAAA lookup; no SRV/NAPTR).
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>> {
        let resolve_error = |reason: String| Error::Resolve {
            host: self.host.clone(),
            reason,
        };
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| resolve_error(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(resolve_error("no address".into()));
        }
        Ok(addrs)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.url {
            Some(url) => f.write_str(url),
            None => write!(f, "{}:{}", self.kind.uri_param(), self.authority()),
        }
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let hostport = hostport.trim();
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse().ok()?)),
        None => (hostport, None),
    };
    if host.is_empty() || host.contains(':') {
        return None;
    }
    Some((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_keep_path_and_query() {
        let t = Target::parse("wss://pbx.example.com:8089/ws?token=a").unwrap();
        assert_eq!(t.kind, TransportKind::Wss);
        assert_eq!((t.host.as_str(), t.port), ("pbx.example.com", 8089));
        assert_eq!(
            t.url.as_deref(),
            Some("wss://pbx.example.com:8089/ws?token=a")
        );
        let t = Target::parse("ws://127.0.0.1/ws").unwrap();
        assert_eq!((t.kind, t.port), (TransportKind::Ws, 80));
    }

    #[test]
    fn sip_uris_pick_the_transport_and_default_port() {
        let cases = [
            ("sip:fritz.box", TransportKind::Udp, 5060),
            ("sip:10.0.0.1:5070;transport=tcp", TransportKind::Tcp, 5070),
            ("SIP:pbx;transport=TLS", TransportKind::Tls, 5061),
            ("sips:pbx", TransportKind::Tls, 5061),
            (
                "sip:alice@[::1]:5062;transport=udp",
                TransportKind::Udp,
                5062,
            ),
        ];
        for (text, kind, port) in cases {
            let t = Target::parse(text).unwrap();
            assert_eq!((t.kind, t.port), (kind, port), "{text}");
        }
        assert_eq!(Target::parse("sip:alice@[::1]:5062").unwrap().host, "::1");
    }

    #[test]
    fn bad_targets_say_why() {
        for text in [
            "http://x",
            "sip:",
            "sip:host:99999",
            "sip:h;transport=sctp",
            "ws://",
        ] {
            let error = Target::parse(text).unwrap_err();
            assert!(
                matches!(error, Error::InvalidTarget { .. }),
                "{text}: {error}"
            );
        }
    }
}
