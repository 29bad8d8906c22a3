//! What a [`Transport`](crate::Transport) connects to and how.

use std::net::SocketAddr;
use std::time::Duration;

use crate::backoff::{Backoff, WeightedServer};
use crate::keepalive::KeepAlive;
use crate::tls::TlsOptions;

/// The default largest SIP message accepted or sent, in bytes.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// Settings for one transport: the servers (fail-over list) and how to talk to them.
///
/// ```
/// use std::time::Duration;
/// use sip_transport::{TransportConfig, WeightedServer};
///
/// let config = TransportConfig::new("wss://pbx.example.com:8089/ws")
///     .with_server(WeightedServer::new("wss://backup.example.com/ws").with_weight(0))
///     .with_connect_timeout(Duration::from_secs(5));
/// assert_eq!(config.servers.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Servers to use, highest weight first (JsSIP's weighted socket list). All must be
    /// connection-oriented (`ws`, `wss`, `tcp`, `tls`), or there is exactly one UDP server.
    pub servers: Vec<WeightedServer>,
    /// TLS settings for `wss://` and `sips:`/TLS.
    pub tls: TlsOptions,
    /// Keep-alive for connection-oriented transports.
    pub keep_alive: KeepAlive,
    /// Delays between reconnect attempts.
    pub backoff: Backoff,
    /// Whether to reconnect after an unrequested close (default on).
    pub reconnect: bool,
    /// Bound on each of TCP connect, TLS handshake and WebSocket handshake (default 10 s).
    pub connect_timeout: Duration,
    /// Largest SIP message accepted or sent (default 64 KiB); larger incoming frames are
    /// dropped and counted.
    pub max_message_size: usize,
    /// Local address for the UDP socket (default: any address, a free port).
    pub udp_bind: Option<SocketAddr>,
    /// DNS servers for SRV lookups (default: the system's configuration).
    pub dns_servers: Vec<SocketAddr>,
}

impl TransportConfig {
    /// One server (weight 1), everything else default.
    pub fn new(server: impl Into<String>) -> Self {
        TransportConfig {
            servers: vec![WeightedServer::new(server).with_weight(1)],
            tls: TlsOptions::default(),
            keep_alive: KeepAlive::default(),
            backoff: Backoff::default(),
            reconnect: true,
            connect_timeout: Duration::from_secs(10),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            udp_bind: None,
            dns_servers: Vec::new(),
        }
    }

    /// Adds a fail-over server.
    pub fn with_server(mut self, server: WeightedServer) -> Self {
        self.servers.push(server);
        self
    }

    /// Sets the TLS options.
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the keep-alive.
    pub fn with_keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Sets the reconnect back-off.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Turns reconnecting on or off.
    pub fn with_reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Sets the connect/handshake timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the message size limit.
    pub fn with_max_message_size(mut self, size: usize) -> Self {
        self.max_message_size = size;
        self
    }

    /// Uses these DNS servers (address and port) instead of the system's.
    pub fn with_dns_servers(mut self, servers: Vec<SocketAddr>) -> Self {
        self.dns_servers = servers;
        self
    }

    /// Sets the local UDP address.
    pub fn with_udp_bind(mut self, addr: SocketAddr) -> Self {
        self.udp_bind = Some(addr);
        self
    }
}
