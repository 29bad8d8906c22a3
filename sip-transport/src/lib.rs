//! # sip-transport
//!
//! The connection layer under every Sipline user agent: SIP over WebSocket (RFC 7118, `ws://`
//! and `wss://`), UDP, TCP and TLS. A [`Transport`] sends and receives whole SIP messages,
//! reports its state and flow ([`TransportEvent`], [`Flow`]), keeps connections alive (RFC 5626
//! double-CRLF and WebSocket pings) and reconnects with randomised exponential back-off across
//! a weighted list of servers.
//!
//! - WebSocket requests and requires the `sip` subprotocol; text and binary frames are
//!   accepted, one message per WebSocket message.
//! - TLS uses rustls (ring) with webpki or system roots plus extra CA files; certificates are
//!   always verified unless [`TlsOptions::danger_accept_invalid_certificates`] is set.
//! - Bad input (oversized, malformed or non-SIP frames) is dropped, logged at `warn` and
//!   counted in [`TransportStats`]; the connection stays up. Lost stream framing closes the
//!   connection and reconnects.
//! - Every message in and out is logged at `debug` on target `sip::wire` with its flow.
//! - `sip:`/`sips:` targets naming a domain without a port are looked up with DNS SRV
//!   (RFC 3263 §4.2, `hickory-resolver`), falling back to A/AAAA; NAPTR is not consulted (the
//!   transport comes from the URI). WebSocket URLs use A/AAAA.
//!
//! ```no_run
//! use sip_proto::Message;
//! use sip_transport::{Transport, TransportConfig, TransportEvent, rfc7118};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (transport, mut events) = Transport::start(TransportConfig::new("wss://pbx.example.com/ws"))?;
//! let via_host = rfc7118::random_invalid_host();
//! while let Some(event) = events.recv().await {
//!     match event {
//!         TransportEvent::Connected { flow, .. } => {
//!             let via = rfc7118::via_value(&flow, &via_host, "z9hG4bK7f3a");
//!             let options = Message::parse(format!(
//!                 "OPTIONS sip:pbx.example.com SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
//!                  From: <sip:alice@pbx.example.com>;tag=1\r\nTo: <sip:pbx.example.com>\r\n\
//!                  Call-ID: 8d2e@{via_host}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
//!             ).into_bytes())?;
//!             transport.send(&options).await?;
//!         }
//!         TransportEvent::Message { message, flow } => {
//!             println!("{:?} on {flow}", message.as_ref().status());
//!         }
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

mod backoff;
mod codec;
mod config;
mod driver;
mod error;
mod event;
mod flow;
mod keepalive;
mod link;
mod resolve;
pub mod rfc7118;
pub mod rport;
mod stats;
mod target;
mod tls;
mod transport;

pub use backoff::{Backoff, WeightedServer};
pub use config::{DEFAULT_MAX_MESSAGE_SIZE, TransportConfig};
pub use error::{Error, Result};
pub use event::TransportEvent;
pub use flow::{Flow, TransportKind};
pub use keepalive::KeepAlive;
pub use stats::TransportStats;
pub use target::Target;
pub use tls::{TlsOptions, TrustRoots};
pub use transport::{Transport, TransportEvents};

/// The SIP message type sent and received (sip-proto's owned message).
pub use sip_proto::Message;

/// The WebSocket subprotocol token SIP uses (RFC 7118 §4.1).
pub const PROTOCOL: &str = "sip";
