//! URIs: `sip`/`sips` (RFC 3261 §19.1), `tel` (RFC 3966) and any other absolute URI kept opaque.
//!
//! [`Uri`] borrows from the text it was parsed from and performs no allocation; [`UriBuf`] is
//! the owned form for storing. Equality by the rules of RFC 3261 §19.1.4 is
//! [`Uri::rfc_eq`]; the derived `PartialEq` compares the text structurally.
//!
//! ```
//! use sip_proto::uri::{Host, Uri};
//!
//! let uri = Uri::parse("sip:%61lice@AtLanTa.CoM;transport=TCP").unwrap();
//! let Uri::Sip(sip) = &uri else { panic!("a sip URI") };
//! assert_eq!(sip.user_unescaped().as_deref(), Some("alice"));
//! assert_eq!(sip.host, Host::Domain("AtLanTa.CoM"));
//! assert!(uri.rfc_eq(&Uri::parse("sip:alice@atlanta.com;Transport=tcp").unwrap()));
//! assert_eq!(uri.to_string(), "sip:%61lice@AtLanTa.CoM;transport=TCP");
//! ```

mod eq;
pub mod escape;
mod host;
mod owned;
mod sip;
mod tel;

use std::fmt;

pub use host::Host;
pub(crate) use host::scan_ipv4;
pub(crate) use host::scan_port as host_port;
pub use owned::UriBuf;
pub use sip::{HeaderPairs, SipUri};
pub use tel::TelUri;

use crate::error::Result;
use crate::grammar::syntax;

/// A parsed URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:`.
    Sip(SipUri<'a>),
    /// `tel:`.
    Tel(TelUri<'a>),
    /// Any other absolute URI (`http:`, `urn:`, `mailto:` ...), kept as written.
    Other {
        /// The scheme as written.
        scheme: &'a str,
        /// Everything after the first `:`.
        rest: &'a str,
    },
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

impl<'a> Uri<'a> {
    /// Parses a whole string as an absolute URI.
    pub fn parse(s: &'a str) -> Result<Self> {
        // Nearly every URI in SIP is `sip:`; skip the general scheme scan for it.
        if s.len() > 4 && s.as_bytes()[3] == b':' && s.as_bytes()[..3].eq_ignore_ascii_case(b"sip")
        {
            return SipUri::parse_after_scheme(s, 4, false).map(Uri::Sip);
        }
        let colon = s
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .unwrap_or(s.len());
        if s.as_bytes().get(colon) != Some(&b':') {
            // Either a character that cannot be in a scheme, or no ':' at all.
            return Err(match memchr::memchr(b':', s.as_bytes()) {
                Some(_) => syntax(0, "URI scheme"),
                None => syntax(colon, "URI scheme and :"),
            });
        }
        let scheme = &s[..colon];
        if !is_scheme(scheme) {
            return Err(syntax(0, "URI scheme"));
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_after_scheme(s, colon + 1, false).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_after_scheme(s, colon + 1, true).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_after_scheme(s, colon + 1).map(Uri::Tel)
        } else {
            let rest = &s[colon + 1..];
            if rest.is_empty() {
                return Err(syntax(colon + 1, "URI after scheme"));
            }
            if let Some(i) = rest
                .bytes()
                .position(|b| b <= b' ' || b >= 0x7f || matches!(b, b'<' | b'>' | b'"'))
            {
                return Err(syntax(colon + 1 + i, "URI character"));
            }
            Ok(Uri::Other { scheme, rest })
        }
    }

    /// The scheme: `"sip"`, `"sips"`, `"tel"` or the other scheme as written.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(s) => s.scheme(),
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The SIP URI, when this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(s) => Some(s),
            _ => None,
        }
    }

    /// The tel URI, when this is one.
    pub fn as_tel(&self) -> Option<&TelUri<'a>> {
        match self {
            Uri::Tel(t) => Some(t),
            _ => None,
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> UriBuf {
        UriBuf::from(self)
    }

    /// Equality per RFC 3261 §19.1.4 (SIP), RFC 3966 §4 (tel); other schemes compare the scheme
    /// case-insensitively and the rest exactly.
    pub fn rfc_eq(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => eq::sip_eq(a, b),
            (Uri::Tel(a), Uri::Tel(b)) => a.rfc_eq(b),
            (
                Uri::Other {
                    scheme: sa,
                    rest: ra,
                },
                Uri::Other {
                    scheme: sb,
                    rest: rb,
                },
            ) => sa.eq_ignore_ascii_case(sb) && ra == rb,
            _ => false,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(s) => s.fmt(f),
            Uri::Tel(t) => t.fmt(f),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests;
