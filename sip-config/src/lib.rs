//! # sip-config
//!
//! Reads Home Assistant SIP Core `sip_config` and openHAB `oh-sipclient` configurations
//! (work in progress), validates them with clear errors and resolves them into one `PhoneConfig`.
//!
//! ```
//! let _ = sip_config::FORMATS;
//! ```

/// The configuration formats this crate reads.
pub const FORMATS: [&str; 2] = ["sipcore", "openhab"];
