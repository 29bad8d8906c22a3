//! # sip-proto
//!
//! SIP message types, a zero-copy parser, serializer, builders, URIs and digest authentication
//! (work in progress). No I/O.
//!
//! ```
//! assert_eq!(sip_proto::SIP_VERSION, "SIP/2.0");
//! ```

pub mod error;

pub use error::{Error, Result};

/// The only SIP version this crate speaks.
pub const SIP_VERSION: &str = "SIP/2.0";
