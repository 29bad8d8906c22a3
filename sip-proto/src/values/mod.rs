//! Typed, borrowed header values.
//!
//! Each type's `parse` takes one header value (list headers already split at top-level commas
//! by [`crate::grammar::split_list`]; folded white space allowed), borrows from it and does not
//! allocate. Errors are [`crate::Error::Syntax`] with the offset relative to the value start.
//! `Display` writes a value back in canonical form.
//!
//! Headers that must NOT be comma-split: WWW-Authenticate, Proxy-Authenticate, Authorization,
//! Proxy-Authorization (their parameters are comma-separated), User-Agent and Server (comments
//! may hold commas), Date (contains a comma), Retry-After, Call-ID, CSeq and the numeric ones.
//!
//! ```
//! use sip_proto::values::{NameAddr, Via};
//!
//! let via = Via::parse("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds;rport").unwrap();
//! assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
//! let from = NameAddr::parse("\"Alice\" <sip:alice@atlanta.com>;tag=1928301774").unwrap();
//! assert_eq!(from.tag(), Some("1928301774"));
//! ```

mod auth;
mod call_id;
mod contact;
mod cseq;
mod date;
mod event;
mod media_type;
mod name_addr;
mod numeric;
mod product;
mod rack;
mod reason;
mod retry_after;
mod session_timer;
mod tokens;
mod via;

pub use auth::{AuthParams, Challenge, Credentials};
pub use call_id::CallId;
pub use contact::{Contact, QValue};
pub use cseq::CSeq;
pub use date::Date;
pub use event::{Event, SubscriptionState};
pub use media_type::{ContentType, MediaRange};
pub use name_addr::{DisplayName, NameAddr};
pub use numeric::{ContentLength, Expires, MaxForwards, MinExpires, RSeq};
pub use product::{Products, Server, ServerItem, UserAgent};
pub use rack::RAck;
pub use reason::Reason;
pub use retry_after::RetryAfter;
pub use session_timer::{MinSe, Refresher, SessionExpires};
pub use tokens::{OptionTag, Token};
pub use via::{BRANCH_MAGIC_COOKIE, Rport, Via};
