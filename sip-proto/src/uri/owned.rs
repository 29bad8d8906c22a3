//! [`UriBuf`]: an owned URI that hands out borrowed [`Uri`] views without re-parsing.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::{Host, SipUri, TelUri, Uri};
use crate::error::{Error, Result};
use crate::grammar::Params;

/// Byte range of a component in the owned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn get<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HostShape {
    Domain(Span),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

/// Where each component of a parsed URI sits in the owned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Sip {
        secure: bool,
        user: Option<Span>,
        password: Option<Span>,
        host: HostShape,
        port: Option<u16>,
        params: Span,
        headers: Option<Span>,
    },
    Tel {
        number: Span,
        params: Span,
    },
    Other {
        scheme: Span,
        rest: Span,
    },
}

/// An owned URI: the text plus the positions of its components, so [`UriBuf::uri`] is as cheap
/// as copying a few integers.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UriBuf {
    text: String,
    shape: Shape,
}

impl UriBuf {
    /// Parses and stores `s`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(Self::from(&Uri::parse(s)?))
    }

    /// The text of the URI.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A borrowed view of the URI.
    pub fn uri(&self) -> Uri<'_> {
        let t = self.text.as_str();
        match self.shape {
            Shape::Sip {
                secure,
                user,
                password,
                host,
                port,
                params,
                headers,
            } => Uri::Sip(SipUri {
                secure,
                user: user.map(|s| s.get(t)),
                password: password.map(|s| s.get(t)),
                host: match host {
                    HostShape::Domain(s) => Host::Domain(s.get(t)),
                    HostShape::Ipv4(a) => Host::Ipv4(a),
                    HostShape::Ipv6(a) => Host::Ipv6(a),
                },
                port,
                params: Params::new(params.get(t)),
                headers: headers.map(|s| s.get(t)),
            }),
            Shape::Tel { number, params } => Uri::Tel(TelUri {
                number: number.get(t),
                params: Params::new(params.get(t)),
            }),
            Shape::Other { scheme, rest } => Uri::Other {
                scheme: scheme.get(t),
                rest: rest.get(t),
            },
        }
    }

    /// Equality per RFC 3261 §19.1.4 (see [`Uri::rfc_eq`]).
    pub fn rfc_eq(&self, other: &Uri<'_>) -> bool {
        self.uri().rfc_eq(other)
    }
}

impl From<&Uri<'_>> for UriBuf {
    fn from(uri: &Uri<'_>) -> Self {
        // Writing the URI out and locating each borrowed component in the new text keeps
        // both in step: Display writes every component verbatim, in order.
        let text = uri.to_string();
        let shape = match uri {
            Uri::Sip(s) => {
                // scheme ":" [user [":" password] "@"] host [":" port] params ["?" headers]
                let mut pos = s.scheme().len() + 1;
                let mut take = |len: usize| {
                    let span = Span {
                        start: pos,
                        end: pos + len,
                    };
                    pos += len;
                    span
                };
                let user = s.user.map(|u| take(u.len()));
                let password = s.password.map(|p| {
                    take(1);
                    take(p.len())
                });
                if s.user.is_some() {
                    take(1);
                }
                let host_text = s.host.to_string();
                let host_span = take(host_text.len());
                let host = match s.host {
                    Host::Domain(_) => HostShape::Domain(host_span),
                    Host::Ipv4(a) => HostShape::Ipv4(a),
                    Host::Ipv6(a) => HostShape::Ipv6(a),
                };
                if let Some(p) = s.port {
                    take(1 + p.to_string().len());
                }
                let params = take(s.params.as_str().len());
                let headers = s.headers.map(|h| {
                    take(1);
                    take(h.len())
                });
                Shape::Sip {
                    secure: s.secure,
                    user,
                    password,
                    host,
                    port: s.port,
                    params,
                    headers,
                }
            }
            Uri::Tel(t) => {
                let number = Span {
                    start: 4,
                    end: 4 + t.number.len(),
                };
                Shape::Tel {
                    number,
                    params: Span {
                        start: number.end,
                        end: text.len(),
                    },
                }
            }
            Uri::Other { scheme, rest } => {
                let scheme = Span {
                    start: 0,
                    end: scheme.len(),
                };
                Shape::Other {
                    scheme,
                    rest: Span {
                        start: scheme.end + 1,
                        end: scheme.end + 1 + rest.len(),
                    },
                }
            }
        };
        UriBuf { text, shape }
    }
}

impl From<Uri<'_>> for UriBuf {
    fn from(uri: Uri<'_>) -> Self {
        UriBuf::from(&uri)
    }
}

impl FromStr for UriBuf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for UriBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for UriBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UriBuf").field(&self.text).finish()
    }
}
