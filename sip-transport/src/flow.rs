//! Transport kinds and flows: which socket a message came in on and where a reply must go.

use std::fmt;
use std::net::SocketAddr;

/// A SIP transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// UDP, one message per datagram.
    Udp,
    /// TCP, messages framed by `Content-Length`.
    Tcp,
    /// TLS over TCP (`sips:`), framed like TCP.
    Tls,
    /// WebSocket (RFC 7118), one message per WebSocket message.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl TransportKind {
    /// The token used in a Via header (`SIP/2.0/WSS`): `UDP`, `TCP`, `TLS`, `WS` or `WSS`.
    pub fn via_token(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            TransportKind::Tls => "TLS",
            TransportKind::Ws => "WS",
            TransportKind::Wss => "WSS",
        }
    }

    /// The value of a URI's `transport` parameter: `udp`, `tcp`, `tls`, `ws` or `wss`.
    pub fn uri_param(self) -> &'static str {
        match self {
            TransportKind::Udp => "udp",
            TransportKind::Tcp => "tcp",
            TransportKind::Tls => "tls",
            TransportKind::Ws => "ws",
            TransportKind::Wss => "wss",
        }
    }

    /// Whether the transport is reliable (a stream), so SIP retransmissions are not needed.
    pub fn is_reliable(self) -> bool {
        !matches!(self, TransportKind::Udp)
    }

    /// Whether the transport is encrypted.
    pub fn is_secure(self) -> bool {
        matches!(self, TransportKind::Tls | TransportKind::Wss)
    }

    /// The default port: 5061 for TLS, 5060 for UDP and TCP, 443/80 for WSS/WS.
    pub fn default_port(self) -> u16 {
        match self {
            TransportKind::Udp | TransportKind::Tcp => 5060,
            TransportKind::Tls => 5061,
            TransportKind::Ws => 80,
            TransportKind::Wss => 443,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// One flow: the transport kind plus the local and remote socket addresses.
///
/// A user agent puts `kind` and `local` into its Via and Contact, and sends a response back on
/// the flow the request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// The transport protocol.
    pub kind: TransportKind,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> {}", self.kind, self.local, self.remote)
    }
}
