//! Typed, lazily parsed header accessors on [`MessageRef`].
//!
//! Nothing is parsed until asked for. Each accessor returns `None` when the header is absent
//! and `Some(Err(..))` when it is present but malformed; error offsets are rebased onto the
//! message (from the start of the parsed input). Iterating accessors yield one item per
//! value, list headers split at top-level commas.

use crate::error::{Error, Result};
use crate::grammar::parse_u32;
use crate::header_name::HeaderName;
use crate::message::MessageRef;
use crate::uri::Uri;
use crate::values::{CSeq, NameAddr, Via};

impl<'a> MessageRef<'a> {
    /// Runs a value parser and rebases its error offset onto the message.
    pub fn parse_value<T>(
        &self,
        value: &'a str,
        parser: impl FnOnce(&'a str) -> Result<T>,
    ) -> Result<T> {
        let base = self.offset_of(value).unwrap_or(0);
        parser(value).map_err(|e| e.at_offset(base))
    }

    fn typed<T>(
        &self,
        name: HeaderName<'_>,
        parser: impl FnOnce(&'a str) -> Result<T>,
    ) -> Option<Result<T>> {
        let value = self.header(name)?;
        Some(self.parse_value(value, parser))
    }

    fn number(&self, name: HeaderName<'_>, expected: &'static str) -> Option<Result<u32>> {
        self.typed(name, |v| {
            parse_u32(v).ok_or(Error::Syntax {
                offset: 0,
                expected,
            })
        })
    }

    fn typed_all<'s, T: 's>(
        &'s self,
        name: HeaderName<'s>,
        parser: fn(&'a str) -> Result<T>,
    ) -> impl Iterator<Item = Result<T>> + 's {
        self.headers_named(name)
            .map(move |value| self.parse_value(value, parser))
    }

    /// The Request-URI, parsed (`None` for a response).
    pub fn request_uri(&self) -> Option<Result<Uri<'a>>> {
        let uri = self.request_uri_str()?;
        Some(self.parse_value(uri, Uri::parse))
    }

    /// Every `Via` value, topmost first.
    pub fn via(&self) -> impl Iterator<Item = Result<Via<'a>>> + '_ {
        self.typed_all(HeaderName::Via, Via::parse)
    }

    /// The topmost `Via`.
    pub fn top_via(&self) -> Option<Result<Via<'a>>> {
        self.via().next()
    }

    /// `From`.
    pub fn from(&self) -> Option<Result<NameAddr<'a>>> {
        self.typed(HeaderName::From, NameAddr::parse)
    }

    /// `To`.
    pub fn to(&self) -> Option<Result<NameAddr<'a>>> {
        self.typed(HeaderName::To, NameAddr::parse)
    }

    /// `CSeq`.
    pub fn cseq(&self) -> Option<Result<CSeq<'a>>> {
        self.typed(HeaderName::CSeq, CSeq::parse)
    }

    /// Every `Contact` value. A wildcard `Contact: *` (REGISTER removing all bindings) is
    /// reported by [`MessageRef::contact_is_wildcard`] and yields nothing here.
    pub fn contact(&self) -> impl Iterator<Item = Result<NameAddr<'a>>> + '_ {
        self.headers_named(HeaderName::Contact)
            .filter(|v| *v != "*")
            .map(|v| self.parse_value(v, NameAddr::parse))
    }

    /// Whether the message carries `Contact: *`.
    pub fn contact_is_wildcard(&self) -> bool {
        self.headers_named(HeaderName::Contact).any(|v| v == "*")
    }

    /// Every `Route` value, in order.
    pub fn route(&self) -> impl Iterator<Item = Result<NameAddr<'a>>> + '_ {
        self.typed_all(HeaderName::Route, NameAddr::parse)
    }

    /// Every `Record-Route` value, in order.
    pub fn record_route(&self) -> impl Iterator<Item = Result<NameAddr<'a>>> + '_ {
        self.typed_all(HeaderName::RecordRoute, NameAddr::parse)
    }

    /// `Refer-To`.
    pub fn refer_to(&self) -> Option<Result<NameAddr<'a>>> {
        self.typed(HeaderName::ReferTo, NameAddr::parse)
    }

    /// `Max-Forwards`.
    pub fn max_forwards(&self) -> Option<Result<u32>> {
        self.number(HeaderName::MaxForwards, "Max-Forwards digits")
    }

    /// `Content-Length` as declared (the body is already sliced by it).
    pub fn content_length(&self) -> Option<Result<u32>> {
        self.number(HeaderName::ContentLength, "Content-Length digits")
    }

    /// `Expires` in seconds.
    pub fn expires(&self) -> Option<Result<u32>> {
        self.number(HeaderName::Expires, "Expires delta-seconds")
    }

    /// `Min-Expires` in seconds.
    pub fn min_expires(&self) -> Option<Result<u32>> {
        self.number(HeaderName::MinExpires, "Min-Expires delta-seconds")
    }

    /// `Content-Type` as written (`application/sdp`).
    pub fn content_type(&self) -> Option<&'a str> {
        self.header(HeaderName::ContentType)
    }
}
