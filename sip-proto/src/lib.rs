//! # sip-proto
//!
//! SIP (RFC 3261) messages without I/O: a zero-copy parser, typed header values, URIs,
//! a serializer, builders, stream framing, validation and digest authentication.
//!
//! - [`MessageRef::parse`], [`parse_datagram`] and [`parse_stream`] parse bytes into a
//!   borrowed [`MessageRef`] without allocating; header values are parsed lazily by the typed
//!   accessors ([`MessageRef::via`], [`MessageRef::from`], [`MessageRef::cseq`] ...).
//! - [`framer::next_frame`] frames TCP/TLS streams (RFC 5626 keep-alives included).
//! - [`Message`] owns a message for storing and sending; [`builder`] makes requests and
//!   responses; [`generate`] makes branches, tags and Call-IDs.
//! - [`validate::validate`] says which status a user agent owes a received message.
//!
//! ```
//! use sip_proto::builder::ResponseBuilder;
//! use sip_proto::validate::{validate, ValidateOptions, Verdict};
//! use sip_proto::{HeaderName, Method, MessageRef};
//!
//! let bytes = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n\
//! Max-Forwards: 70\r\n\
//! To: Bob <sip:bob@biloxi.example.com>\r\n\
//! From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//! Call-ID: a84b4c76e66710\r\n\
//! CSeq: 314159 INVITE\r\n\
//! Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n\
//! Content-Length: 0\r\n\r\n";
//!
//! let invite = MessageRef::parse(bytes)?;
//! assert_eq!(invite.method(), Some(Method::Invite));
//! assert_eq!(invite.top_via().unwrap()?.branch(), Some("z9hG4bKnashds7"));
//! assert_eq!(invite.from().unwrap()?.tag(), Some("1928301774"));
//! assert_eq!(invite.cseq().unwrap()?.seq, 314159);
//! assert_eq!(validate(&invite, &ValidateOptions::default()), Verdict::Accept);
//!
//! let ringing = ResponseBuilder::for_request(&invite, 180).to_tag("a6c85cf").build()?;
//! let wire = ringing.to_bytes();
//! let parsed = MessageRef::parse(&wire)?;
//! assert_eq!(parsed.status(), Some(180));
//! assert_eq!(parsed.header(HeaderName::CallId), Some("a84b4c76e66710"));
//! # Ok::<(), sip_proto::Error>(())
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
