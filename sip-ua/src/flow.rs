//! What the core knows about the transport: opaque flow ids, the transport kind of each flow,
//! and the messages it asks the driver to send.

use std::fmt;
use std::time::Duration;

use crate::message::SipMessage;

/// Identifies one transport flow (a WebSocket, a TCP connection, a UDP socket and peer).
/// The driver chooses the numbers; the core only compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u64);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow#{}", self.0)
    }
}

/// A SIP transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP: unreliable, so the transaction layer retransmits.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket.
    Wss,
}

impl Transport {
    /// Whether the transport delivers reliably (no SIP-level retransmission).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The Via token: `UDP`, `TCP`, `TLS`, `WS`, `WSS`.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// The URI `transport` parameter value.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// Whether this is a WebSocket transport (RFC 7118: `.invalid` Via and Contact host).
    pub fn is_websocket(self) -> bool {
        matches!(self, Transport::Ws | Transport::Wss)
    }
}

/// A message the driver must send on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The flow to send on.
    pub flow: FlowId,
    /// The message.
    pub message: SipMessage,
}

/// What the driver tells the core about its flows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportEvent {
    /// A flow to the outbound proxy or registrar is up; requests go there from now on.
    Connected {
        /// The flow.
        flow: FlowId,
        /// Its transport.
        transport: Transport,
        /// Our `host:port` on it, for Via and Contact on non-WebSocket transports.
        local: String,
    },
    /// The flow closed; transactions on it fail and registration waits for a reconnect.
    Disconnected {
        /// The flow.
        flow: FlowId,
        /// Why, for the event stream.
        reason: String,
    },
    /// A message could not be sent on the flow (RFC 3261 §17.1.4: the transaction fails).
    SendFailed {
        /// The flow.
        flow: FlowId,
        /// The Call-ID of the message that failed, when known.
        call_id: Option<String>,
        /// Why.
        reason: String,
    },
}

/// RFC 3261 timer base values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the cap on non-INVITE retransmission intervals (default 4 s).
    pub t2: Duration,
    /// T4, how long a message may stay in the network (default 5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J, L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}
