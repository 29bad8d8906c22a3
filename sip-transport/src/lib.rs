//! # sip-transport
//!
//! The connection layer under every Sipline user agent (work in progress): SIP over WebSocket
//! (RFC 7118, `ws://` and `wss://`), UDP, TCP and TLS, each sending and receiving whole
//! [`sip_proto`] messages, with RFC 5626 keep-alive and reconnect with back-off.
//!
//! ```
//! // The transports are being built; for now the crate only re-exports the message layer.
//! let _ = sip_transport::PROTOCOL;
//! ```

/// The WebSocket subprotocol token SIP uses (RFC 7118 §4.1).
pub const PROTOCOL: &str = "sip";
