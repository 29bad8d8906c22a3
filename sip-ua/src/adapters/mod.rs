//! Home-automation adapters over HTTP (cargo features `openhab` and `home-assistant`):
//! publishing the call state to an openHAB item, and Home Assistant service calls and SIP
//! Core's configuration.
//!
//! Requests run with a timeout on `reqwest` with rustls (ring, the Mozilla roots; TLS is always
//! verified). Failures (a 401, a timeout, a refused connection) come back as typed
//! [`AdapterError`]s, or as [`AdapterEvent`]s from the background publishers, and never touch
//! a call: the adapters own no SIP state.
//!
//! ```no_run
//! # #[cfg(feature = "home-assistant")]
//! # async fn run() -> Result<(), sip_ua::adapters::AdapterError> {
//! use std::time::Duration;
//! use sip_config::Secret;
//! use sip_ua::adapters::{HttpEndpoint, home_assistant::HomeAssistantClient};
//!
//! let endpoint = HttpEndpoint::new("http://homeassistant.local:8123", Some(Secret::new("token")))
//!     .timeout(Duration::from_secs(5));
//! let ha = HomeAssistantClient::new(endpoint)?;
//! let sip_config = ha.fetch_sip_core_config().await?;
//! # let _ = sip_config; Ok(()) }
//! ```

#[cfg(feature = "home-assistant")]
pub mod home_assistant;
mod http;
#[cfg(feature = "openhab")]
pub mod openhab;

pub use http::{AdapterError, AdapterEvent, DEFAULT_TIMEOUT, HttpEndpoint};
