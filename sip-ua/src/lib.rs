//! # sip-ua
//!
//! The Sipline user agent: transactions (RFC 3261 §17, RFC 6026), registration (§10, RFC 5626,
//! RFC 7118) and digest authentication in an I/O-free core fed messages, transport events and
//! the time. It never reads a clock or a socket: the driver (or a test) calls
//! [`UserAgentCore::handle_message`], [`UserAgentCore::handle_timeout`] and
//! [`UserAgentCore::handle_transport_event`], then drains
//! [`UserAgentCore::poll_transmit`], [`UserAgentCore::poll_event`] and
//! [`UserAgentCore::poll_timeout`].
//!
//! ```
//! use std::time::Instant;
//! use sip_ua::{CoreConfig, Credentials, Event, FlowId, SipMessage, Transport, TransportEvent, UserAgentCore};
//!
//! let now = Instant::now();
//! let config = CoreConfig::new("sip:alice@example.com", Credentials::new("alice", "pw"))
//!     .with_rng_seed(7);
//! let mut ua = UserAgentCore::new(config);
//! ua.handle_transport_event(now, TransportEvent::Connected {
//!     flow: FlowId(1),
//!     transport: Transport::Ws,
//!     local: "127.0.0.1:40000".into(),
//! });
//! let register = ua.poll_transmit().unwrap().message;
//!
//! // The registrar accepts the binding.
//! let mut ok = SipMessage::response_to(&register, 200);
//! ok.push_header("Contact", register.header("Contact").unwrap());
//! ua.handle_message(now, ok, FlowId(1));
//! assert_eq!(ua.poll_event(), Some(Event::TransportConnected { flow: FlowId(1) }));
//! assert!(matches!(ua.poll_event(), Some(Event::Registered { .. })));
//! ```

#[cfg(any(feature = "openhab", feature = "home-assistant"))]
pub mod adapters;
pub mod auth;
mod call;
pub mod config;
mod core;
mod dialog;
pub mod driver;
pub mod error;
pub mod event;
pub mod flow;
pub mod message;
pub mod policy;
pub mod popup;
mod registration;
pub mod state_item;
mod timer_queue;
mod transaction;
pub mod values;
mod wire;

pub use auth::{Credentials, Password};
pub use call::{CallInfo, Direction as CallDirection, Phase as CallPhase};
pub use config::CoreConfig;
pub use core::UserAgentCore;
pub use error::{Error, Result};
pub use event::{CallHandle, DtmfMethod, EndCause, EndedBy, Event, HoldSide};
pub use flow::{FlowId, TimerConfig, Transmit, Transport, TransportEvent};
pub use message::{Method, SipMessage, StartLine};

/// Default registration expiry in seconds (JsSIP's default).
pub const DEFAULT_REGISTER_EXPIRES: u32 = 600;
