//! RFC 7118 helpers: the Via sent-by and Contact a WebSocket client uses.
//!
//! A browser-like WebSocket client has no reachable address of its own, so it puts a random
//! `.invalid` host in its Via (`SIP/2.0/WSS df7jal23ls0d.invalid`) and Contact
//! (`sip:user@df7jal23ls0d.invalid;transport=ws`); the server sends requests back over the
//! connection instead (RFC 7118 §5.2, §6).

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::flow::{Flow, TransportKind};

/// A random host name under `.invalid` (RFC 2606), 12 lower-case letters and digits.
pub fn random_invalid_host() -> String {
    let label: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    format!("{label}.invalid")
}

/// The Via header value (without branch) for `flow`: `SIP/2.0/WSS host;rport`.
///
/// WebSocket flows use `invalid_host` (see [`random_invalid_host`]); other flows use the
/// flow's local address. `rport` (RFC 3581) asks the server to answer where the request came
/// from.
pub fn via_value(flow: &Flow, invalid_host: &str, branch: &str) -> String {
    let sent_by = match flow.kind {
        TransportKind::Ws | TransportKind::Wss => invalid_host.to_owned(),
        _ => flow.local.to_string(),
    };
    format!(
        "SIP/2.0/{} {sent_by};branch={branch};rport",
        flow.kind.via_token()
    )
}

/// The Contact URI for `user` on `flow`: `sip:user@host;transport=ws` for WebSocket (WS and
/// WSS both use `transport=ws`, RFC 7118 §5.2), `sip:user@local;transport=tcp` and so on.
pub fn contact_uri(flow: &Flow, user: &str, invalid_host: &str) -> String {
    match flow.kind {
        TransportKind::Ws | TransportKind::Wss => format!("sip:{user}@{invalid_host};transport=ws"),
        TransportKind::Tls => format!("sips:{user}@{}", flow.local),
        kind => format!("sip:{user}@{};transport={}", flow.local, kind.uri_param()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(kind: TransportKind) -> Flow {
        Flow {
            kind,
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8443".parse().unwrap(),
        }
    }

    #[test]
    fn invalid_hosts_are_random_and_under_invalid() {
        let a = random_invalid_host();
        assert!(a.ends_with(".invalid") && a.len() == 20, "{a}");
        assert_ne!(a, random_invalid_host());
    }

    #[test]
    fn websocket_via_and_contact_follow_rfc_7118() {
        let wss = flow(TransportKind::Wss);
        assert_eq!(
            via_value(&wss, "abc.invalid", "z9hG4bK1"),
            "SIP/2.0/WSS abc.invalid;branch=z9hG4bK1;rport"
        );
        assert_eq!(
            contact_uri(&wss, "alice", "abc.invalid"),
            "sip:alice@abc.invalid;transport=ws"
        );
    }

    #[test]
    fn other_flows_use_the_local_address() {
        let udp = flow(TransportKind::Udp);
        assert_eq!(
            via_value(&udp, "x.invalid", "b"),
            "SIP/2.0/UDP 127.0.0.1:40000;branch=b;rport"
        );
        assert_eq!(
            contact_uri(&udp, "bob", "x.invalid"),
            "sip:bob@127.0.0.1:40000;transport=udp"
        );
        assert_eq!(
            contact_uri(&flow(TransportKind::Tls), "bob", "x"),
            "sips:bob@127.0.0.1:40000"
        );
    }
}
