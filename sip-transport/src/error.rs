//! The crate's error type.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A transport failure: what went wrong and with which peer, URL or file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A server URL or SIP URI could not be used as a transport target.
    #[error("invalid transport target {target:?}: {reason}")]
    InvalidTarget {
        /// The URL or URI as given.
        target: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Resolving a host name failed or gave no address.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's answer.
        reason: String,
    },
    /// A socket operation failed.
    #[error("{action} {peer}: {source}")]
    Io {
        /// What was being done ("connect to", "send to", "bind", ...).
        action: &'static str,
        /// The remote (or, for `bind`, local) address.
        peer: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A connect, TLS or WebSocket handshake did not finish in time.
    #[error("{stage} with {peer} timed out after {after:?}")]
    Timeout {
        /// Which stage: "TCP connect", "TLS handshake", "WebSocket handshake".
        stage: &'static str,
        /// The peer.
        peer: String,
        /// How long we waited.
        after: Duration,
    },
    /// The server's TLS certificate was rejected.
    #[error("TLS certificate of {peer} rejected: {reason}")]
    Certificate {
        /// The peer.
        peer: String,
        /// Why (unknown issuer, expired, name mismatch, ...).
        reason: String,
    },
    /// The TLS handshake failed for another reason.
    #[error("TLS handshake with {peer} failed: {reason}")]
    Tls {
        /// The peer.
        peer: String,
        /// The TLS library's message.
        reason: String,
    },
    /// TLS options could not be turned into a client configuration.
    #[error("TLS configuration: {reason}")]
    TlsConfig {
        /// What is wrong.
        reason: String,
    },
    /// An extra CA certificate file could not be read or holds no certificate.
    #[error("CA certificate file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The WebSocket handshake failed (HTTP status, bad reply, closed connection).
    #[error("WebSocket handshake with {url} failed: {reason}")]
    WebSocketHandshake {
        /// The server URL.
        url: String,
        /// The reason.
        reason: String,
    },
    /// The server did not accept the `sip` WebSocket subprotocol (RFC 7118 §4.1).
    #[error(
        "WebSocket server {url} did not accept the \"sip\" subprotocol (it answered {answered:?})"
    )]
    SubprotocolRefused {
        /// The server URL.
        url: String,
        /// The `Sec-WebSocket-Protocol` value the server sent back, if any.
        answered: Option<String>,
    },
    /// A message was too large to send on this transport.
    #[error("message of {size} bytes exceeds the {limit}-byte limit for {peer}")]
    MessageTooLarge {
        /// The message's size.
        size: usize,
        /// The limit.
        limit: usize,
        /// The peer.
        peer: String,
    },
    /// The connection is not up; the message was not sent.
    #[error("not connected to {peer}")]
    NotConnected {
        /// The peer (or server list) we are not connected to.
        peer: String,
    },
    /// A keep-alive ping went unanswered: the connection is dead.
    #[error("keep-alive to {peer}: no answer within {after:?}")]
    KeepAliveTimeout {
        /// The peer.
        peer: String,
        /// How long we waited for the answer.
        after: Duration,
    },
    /// An established connection failed or was closed by the peer.
    #[error("{kind} connection to {peer} lost: {reason}")]
    ConnectionLost {
        /// The peer.
        peer: String,
        /// The transport kind.
        kind: crate::flow::TransportKind,
        /// What happened.
        reason: String,
    },
    /// A TCP/TLS byte stream could not be split into messages any more.
    #[error("stream from {peer} lost its framing: {reason}")]
    Framing {
        /// The peer.
        peer: String,
        /// Why.
        reason: String,
    },
    /// [`crate::Transport::start`] was called outside a tokio runtime.
    #[error("sip-transport needs a tokio runtime: call Transport::start inside one")]
    NoRuntime,
    /// The transport was closed by [`crate::Transport::close`] or dropped.
    #[error("transport closed")]
    Closed,
}

/// Short for `std::result::Result<T, sip_transport::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(action: &'static str, peer: impl ToString, source: std::io::Error) -> Self {
        Error::Io {
            action,
            peer: peer.to_string(),
            source,
        }
    }

    pub(crate) fn timeout(stage: &'static str, peer: SocketAddr, after: Duration) -> Self {
        Error::Timeout {
            stage,
            peer: peer.to_string(),
            after,
        }
    }
}
