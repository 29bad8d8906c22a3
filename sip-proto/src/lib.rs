//! # sip-proto
//!
//! SIP message types, a zero-copy parser, serializer, builders, URIs and digest authentication
//! (work in progress). No I/O.
//!
//! ```
//! assert_eq!(sip_proto::SIP_VERSION, "SIP/2.0");
//! ```

mod accessors;
pub mod builder;
pub mod digest;
pub mod error;
pub mod framer;
pub mod generate;
pub mod grammar;
pub mod header_name;
pub mod headers;
pub mod limits;
pub mod message;
pub mod method;
pub mod owned;
pub mod parser;
pub mod serialize;
pub mod status;
pub mod uri;
pub mod validate;
pub mod values;

pub use error::{Error, Result};
pub use header_name::HeaderName;
pub use headers::{Header, Headers, Values};
pub use limits::{Limits, MAX_HEADER_SLOTS};
pub use message::{MessageRef, StartLine};
pub use method::Method;
pub use owned::Message;
pub use parser::{
    Datagram, Parsed, parse_datagram, parse_datagram_with, parse_stream, parse_stream_with,
};

/// The only SIP version this crate speaks.
pub const SIP_VERSION: &str = "SIP/2.0";
