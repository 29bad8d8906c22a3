//! Typed, lazily parsed header accessors on [`MessageRef`].
//!
//! Nothing is parsed until asked for. Each accessor returns `None` when the header is absent
//! and `Some(Err(..))` when it is present but malformed; error offsets are rebased onto the
//! message (from the start of the parsed input). Iterating accessors yield one item per
//! value, list headers split at top-level commas.

use crate::error::Result;
use crate::header_name::HeaderName;
use crate::message::MessageRef;
use crate::method::Method;
use crate::uri::Uri;
use crate::values::{
    CSeq, Challenge, Contact, ContentLength, ContentType, Credentials, Date, Event, Expires,
    MaxForwards, MediaRange, MinExpires, MinSe, NameAddr, OptionTag, Products, RAck, RSeq, Reason,
    RetryAfter, SessionExpires, SubscriptionState, Token, Via,
};

impl<'a> MessageRef<'a> {
    /// Runs a value parser and rebases its error offset onto the message.
    #[inline]
    pub fn parse_value<T>(
        &self,
        value: &'a str,
        parser: impl FnOnce(&'a str) -> Result<T>,
    ) -> Result<T> {
        let base = self.offset_of(value).unwrap_or(0);
        parser(value).map_err(|e| e.at_offset(base))
    }

    #[inline]
    fn typed<T>(
        &self,
        name: HeaderName<'_>,
        parser: impl FnOnce(&'a str) -> Result<T>,
    ) -> Option<Result<T>> {
        let value = self.header(name)?;
        Some(self.parse_value(value, parser))
    }

    #[inline]
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
    #[inline]
    pub fn via(&self) -> impl Iterator<Item = Result<Via<'a>>> + '_ {
        self.typed_all(HeaderName::Via, Via::parse)
    }

    /// The topmost `Via`.
    #[inline]
    pub fn top_via(&self) -> Option<Result<Via<'a>>> {
        self.via().next()
    }

    /// `From`.
    #[inline]
    pub fn from(&self) -> Option<Result<NameAddr<'a>>> {
        self.typed(HeaderName::From, NameAddr::parse)
    }

    /// `To`.
    #[inline]
    pub fn to(&self) -> Option<Result<NameAddr<'a>>> {
        self.typed(HeaderName::To, NameAddr::parse)
    }

    /// `CSeq`.
    #[inline]
    pub fn cseq(&self) -> Option<Result<CSeq<'a>>> {
        self.typed(HeaderName::CSeq, CSeq::parse)
    }

    /// Every `Contact` value, `*` included ([`Contact::Wildcard`]).
    #[inline]
    pub fn contact(&self) -> impl Iterator<Item = Result<Contact<'a>>> + '_ {
        self.typed_all(HeaderName::Contact, Contact::parse)
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
    pub fn max_forwards(&self) -> Option<Result<MaxForwards>> {
        self.typed(HeaderName::MaxForwards, MaxForwards::parse)
    }

    /// `Content-Length` as declared (the body is already sliced by it).
    pub fn content_length(&self) -> Option<Result<ContentLength>> {
        self.typed(HeaderName::ContentLength, ContentLength::parse)
    }

    /// `Expires` in seconds.
    pub fn expires(&self) -> Option<Result<Expires>> {
        self.typed(HeaderName::Expires, Expires::parse)
    }

    /// `Min-Expires` in seconds.
    pub fn min_expires(&self) -> Option<Result<MinExpires>> {
        self.typed(HeaderName::MinExpires, MinExpires::parse)
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> Option<Result<ContentType<'a>>> {
        self.typed(HeaderName::ContentType, ContentType::parse)
    }

    /// `Date`.
    pub fn date(&self) -> Option<Result<Date>> {
        self.typed(HeaderName::Date, Date::parse)
    }

    /// Every `Accept` media range.
    pub fn accept(&self) -> impl Iterator<Item = Result<MediaRange<'a>>> + '_ {
        self.typed_all(HeaderName::Accept, MediaRange::parse)
    }

    /// Every option tag in `Require`.
    pub fn require(&self) -> impl Iterator<Item = Result<OptionTag<'a>>> + '_ {
        self.typed_all(HeaderName::Require, OptionTag::parse)
    }

    /// Every option tag in `Supported`.
    pub fn supported(&self) -> impl Iterator<Item = Result<OptionTag<'a>>> + '_ {
        self.typed_all(HeaderName::Supported, OptionTag::parse)
    }

    /// Every `WWW-Authenticate` challenge (one per header line: never comma-split).
    pub fn www_authenticate(&self) -> impl Iterator<Item = Result<Challenge<'a>>> + '_ {
        self.typed_all(HeaderName::WwwAuthenticate, Challenge::parse)
    }

    /// Every `Proxy-Authenticate` challenge.
    pub fn proxy_authenticate(&self) -> impl Iterator<Item = Result<Challenge<'a>>> + '_ {
        self.typed_all(HeaderName::ProxyAuthenticate, Challenge::parse)
    }

    /// Every `Authorization` credential.
    pub fn authorization(&self) -> impl Iterator<Item = Result<Credentials<'a>>> + '_ {
        self.typed_all(HeaderName::Authorization, Credentials::parse)
    }

    /// Every `Proxy-Authorization` credential.
    pub fn proxy_authorization(&self) -> impl Iterator<Item = Result<Credentials<'a>>> + '_ {
        self.typed_all(HeaderName::ProxyAuthorization, Credentials::parse)
    }

    /// Every method in `Allow`.
    pub fn allow(&self) -> impl Iterator<Item = Result<Method<'a>>> + '_ {
        self.typed_all(HeaderName::Allow, |v| {
            Token::parse(v).map(|t| Method::parse(t.as_str()))
        })
    }

    /// Every option tag in `Proxy-Require`.
    pub fn proxy_require(&self) -> impl Iterator<Item = Result<OptionTag<'a>>> + '_ {
        self.typed_all(HeaderName::ProxyRequire, OptionTag::parse)
    }

    /// Every option tag in `Unsupported`.
    pub fn unsupported(&self) -> impl Iterator<Item = Result<OptionTag<'a>>> + '_ {
        self.typed_all(HeaderName::Unsupported, OptionTag::parse)
    }

    /// `Event` (RFC 6665).
    pub fn event(&self) -> Option<Result<Event<'a>>> {
        self.typed(HeaderName::Event, Event::parse)
    }

    /// `Subscription-State` (RFC 6665).
    pub fn subscription_state(&self) -> Option<Result<SubscriptionState<'a>>> {
        self.typed(HeaderName::SubscriptionState, SubscriptionState::parse)
    }

    /// `Session-Expires` (RFC 4028).
    pub fn session_expires(&self) -> Option<Result<SessionExpires<'a>>> {
        self.typed(HeaderName::SessionExpires, SessionExpires::parse)
    }

    /// `Min-SE` (RFC 4028).
    pub fn min_se(&self) -> Option<Result<MinSe<'a>>> {
        self.typed(HeaderName::MinSe, MinSe::parse)
    }

    /// Every `Reason` header value (RFC 3326). Not to be confused with the status line's
    /// reason phrase, [`MessageRef::reason`].
    pub fn reason_header(&self) -> impl Iterator<Item = Result<Reason<'a>>> + '_ {
        self.typed_all(HeaderName::Reason, Reason::parse)
    }

    /// `RSeq` (RFC 3262).
    pub fn rseq(&self) -> Option<Result<RSeq>> {
        self.typed(HeaderName::RSeq, RSeq::parse)
    }

    /// `RAck` (RFC 3262).
    pub fn rack(&self) -> Option<Result<RAck<'a>>> {
        self.typed(HeaderName::RAck, RAck::parse)
    }

    /// `User-Agent`.
    pub fn user_agent(&self) -> Option<Result<Products<'a>>> {
        self.typed(HeaderName::UserAgent, Products::parse)
    }

    /// `Server`.
    pub fn server(&self) -> Option<Result<Products<'a>>> {
        self.typed(HeaderName::Server, Products::parse)
    }

    /// `Retry-After`.
    pub fn retry_after(&self) -> Option<Result<RetryAfter<'a>>> {
        self.typed(HeaderName::RetryAfter, RetryAfter::parse)
    }
}
