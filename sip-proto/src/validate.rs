//! What a user agent owes a received message: accept it, answer it with an error status, or
//! (for a broken response) drop it silently.
//!
//! [`validate`] applies the checks of RFC 3261 §8.2 and §16.3 that need no dialog state, in
//! the order the RFC gives them, and RFC 4475's guidance for the torture messages. Checks
//! that depend on what the UA supports (option tags, body types, URI schemes, credentials)
//! are driven by [`ValidateOptions`].
//!
//! ```
//! use sip_proto::validate::{validate, ValidateOptions, Verdict};
//! use sip_proto::MessageRef;
//!
//! let msg = MessageRef::parse(b"OPTIONS sip:a@example.com SIP/7.0\r\nVia: SIP/7.0/UDP h\r\n\r\n")?;
//! match validate(&msg, &ValidateOptions::default()) {
//!     Verdict::Reject(r) => assert_eq!(r.status, 505),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), sip_proto::Error>(())
//! ```

use crate::error::Error;
use crate::header_name::HeaderName;
use crate::message::MessageRef;
use crate::method::Method;
use crate::uri::Uri;
use crate::values::{Contact, Date, NameAddr};

/// What the validating user agent supports. The default describes a plain UAS: `sip`,
/// `sips` and `tel` URIs, no knowledge of option tags or body types (those checks are off).
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions<'o> {
    /// Request-URI schemes this UA serves; others get 416.
    pub uri_schemes: &'o [&'o str],
    /// Option tags this UA supports. When `Some`, a `Require` naming another tag gets 420
    /// with the tags listed in [`Rejection::unsupported`].
    pub supported: Option<&'o [&'o str]>,
    /// Body media types this UA accepts (`application/sdp`). When `Some`, a request body of
    /// another type gets 415.
    pub accepted_types: Option<&'o [&'o str]>,
    /// Body media types this UA would answer with. When `Some`, a request whose `Accept`
    /// admits none of them gets 406.
    pub response_types: Option<&'o [&'o str]>,
    /// Largest request body this UA takes; larger gets 413.
    pub max_body_size: Option<usize>,
    /// Act as a proxy: `Max-Forwards: 0` gets 483 (a UAS accepts it).
    pub proxy: bool,
    /// This UA (e.g. a registrar) requires Digest credentials: a request without
    /// `Authorization`/`Proxy-Authorization` using the Digest scheme gets 401.
    pub require_digest_credentials: bool,
}

impl Default for ValidateOptions<'_> {
    fn default() -> Self {
        ValidateOptions {
            uri_schemes: &["sip", "sips", "tel"],
            supported: None,
            accepted_types: None,
            response_types: None,
            max_body_size: None,
            proxy: false,
            require_digest_credentials: false,
        }
    }
}

/// The outcome of [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Nothing wrong: process the message.
    Accept,
    /// A request the UA must answer with this error response.
    Reject(Rejection<'a>),
    /// A response that is broken: discard it (RFC 3261 §18.1.2 / RFC 4475 `scalarlg`).
    Drop {
        /// Why, for the log.
        reason: String,
    },
}

impl Verdict<'_> {
    /// The status code owed (`None` for accept and drop).
    pub fn status(&self) -> Option<u16> {
        match self {
            Verdict::Reject(r) => Some(r.status),
            _ => None,
        }
    }
}

/// An error response a request deserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection<'a> {
    /// The status code (400, 401, 413, 415, 416, 420, 483, 505 ...).
    pub status: u16,
    /// The standard reason phrase for `status`.
    pub reason: &'static str,
    /// What exactly is wrong ("missing Call-ID header", "CSeq method INVITE does not match
    /// OPTIONS"); suitable as a reason phrase suffix or a `Warning`.
    pub detail: String,
    /// For 420: the required option tags this UA lacks (goes into `Unsupported`).
    pub unsupported: Vec<&'a str>,
}

fn reject<'a>(status: u16, detail: impl Into<String>) -> Rejection<'a> {
    Rejection {
        status,
        reason: crate::status::reason_phrase(status),
        detail: detail.into(),
        unsupported: Vec::new(),
    }
}

fn syntax(what: &str, e: &Error) -> String {
    format!("malformed {what}: {e}")
}

/// Decides what a UA owes `msg`. See the module documentation.
pub fn validate<'a>(msg: &MessageRef<'a>, opts: &ValidateOptions<'_>) -> Verdict<'a> {
    if msg.is_response() {
        return match check_common(msg) {
            Ok(()) => Verdict::Accept,
            Err(r) => Verdict::Drop { reason: r.detail },
        };
    }
    match check_request(msg, opts) {
        Ok(()) => Verdict::Accept,
        Err(r) => Verdict::Reject(r),
    }
}

/// Checks shared by requests and responses; any failure makes a request a 400 (or 505) and
/// a response droppable.
fn check_common<'a>(msg: &MessageRef<'a>) -> Result<(), Rejection<'a>> {
    if !msg.version().eq_ignore_ascii_case(crate::SIP_VERSION) {
        return Err(reject(
            505,
            format!("unsupported version {}", msg.version()),
        ));
    }
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        if msg.count_lines(name) == 0 {
            return Err(reject(400, format!("missing {name} header")));
        }
    }
    for header in msg.headers() {
        if header.name.is_single() && msg.count_lines(header.name) > 1 {
            return Err(reject(400, format!("duplicated {} header", header.name)));
        }
    }
    if msg.call_id().is_none_or(str::is_empty) {
        return Err(reject(400, "empty Call-ID"));
    }
    let cseq = match msg.cseq() {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Err(reject(400, syntax("CSeq", &e))),
        None => return Err(reject(400, "missing CSeq header")),
    };
    if let Some(method) = msg.method() {
        if cseq.method != method {
            return Err(reject(
                400,
                format!("CSeq method {} does not match {method}", cseq.method),
            ));
        }
    }
    for via in msg.via() {
        if let Err(e) = via {
            return Err(reject(400, syntax("Via", &e)));
        }
    }
    for (name, value) in [("From", msg.from()), ("To", msg.to())] {
        match value {
            Some(Ok(addr)) => check_addr(name, &addr)?,
            Some(Err(e)) => return Err(reject(400, syntax(name, &e))),
            None => return Err(reject(400, format!("missing {name} header"))),
        }
    }
    for contact in msg.contact() {
        match contact {
            Ok(Contact::Address(addr)) => check_addr("Contact", &addr)?,
            Ok(Contact::Wildcard) => {}
            Err(e) => return Err(reject(400, syntax("Contact", &e))),
        }
    }
    for (name, mut values) in [
        (
            "Route",
            Box::new(msg.route()) as Box<dyn Iterator<Item = _>>,
        ),
        ("Record-Route", Box::new(msg.record_route())),
    ] {
        if let Some(Err(e)) = values.find(Result::is_err) {
            return Err(reject(400, syntax(name, &e)));
        }
    }
    if let Some(Err(e)) = msg.max_forwards() {
        return Err(reject(400, syntax("Max-Forwards", &e)));
    }
    // RFC 3261 §20.17: Date is an RFC 1123 date in GMT (RFC 4475 `baddate`).
    if let Some(date) = msg.header(HeaderName::Date) {
        if let Err(e) = msg.parse_value(date, Date::parse) {
            return Err(reject(400, syntax("Date", &e)));
        }
    }
    Ok(())
}

/// RFC 3261 §20.10: an address whose URI has `?` headers (or `,` / `;` inside it) must be in
/// angle brackets, else it is ambiguous (RFC 4475 `regbadct`).
fn check_addr<'a>(name: &str, addr: &NameAddr<'_>) -> Result<(), Rejection<'a>> {
    let has_headers = match &addr.uri {
        Uri::Sip(sip) => sip.headers.is_some(),
        _ => false,
    };
    if has_headers && !addr.bracketed {
        return Err(reject(
            400,
            format!("{name} URI with headers must be enclosed in <>"),
        ));
    }
    Ok(())
}

fn check_request<'a>(
    msg: &MessageRef<'a>,
    opts: &ValidateOptions<'_>,
) -> Result<(), Rejection<'a>> {
    check_common(msg)?;
    let method = msg.method().unwrap_or(Method::Extension(""));

    // Request-URI (RFC 3261 §8.2.2.1).
    let uri = match msg.request_uri() {
        Some(Ok(uri)) => uri,
        Some(Err(e)) => return Err(reject(400, syntax("Request-URI", &e))),
        None => return Err(reject(400, "missing Request-URI")),
    };
    if let Uri::Sip(sip) = &uri {
        // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 `escruri`).
        if sip.headers.is_some() {
            return Err(reject(400, "Request-URI must not contain headers"));
        }
    }
    if !opts
        .uri_schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(uri.scheme()))
    {
        return Err(reject(
            416,
            format!("unsupported URI scheme {}", uri.scheme()),
        ));
    }

    if opts.proxy && matches!(msg.max_forwards(), Some(Ok(mf)) if mf.0 == 0) {
        return Err(reject(483, "Max-Forwards reached 0"));
    }

    if opts.require_digest_credentials && method != Method::Ack && method != Method::Cancel {
        // Credentials of an unknown scheme (RFC 4475 `regaut01`) are as good as none.
        let has_digest = msg
            .authorization()
            .chain(msg.proxy_authorization())
            .any(|c| c.is_ok_and(|c| c.scheme.eq_ignore_ascii_case("Digest")));
        if !has_digest {
            return Err(reject(401, "Digest credentials required"));
        }
    }

    // RFC 3261 §8.2.2.3: Require (ignored on ACK and CANCEL).
    if let Some(supported) = opts.supported {
        if method != Method::Ack && method != Method::Cancel {
            let mut unsupported: Vec<&'a str> = Vec::new();
            for tag in msg.require() {
                let tag = tag
                    .map_err(|e| reject(400, syntax("Require", &e)))?
                    .as_str();
                if !supported.iter().any(|s| s.eq_ignore_ascii_case(tag)) {
                    unsupported.push(tag);
                }
            }
            if !unsupported.is_empty() {
                let mut r = reject(
                    420,
                    format!("unsupported extension {}", unsupported.join(", ")),
                );
                r.unsupported = unsupported;
                return Err(r);
            }
        }
    }

    if let Some(max) = opts.max_body_size {
        if msg.body().len() > max {
            return Err(reject(
                413,
                format!("body of {} bytes above {max}", msg.body().len()),
            ));
        }
    }

    // RFC 3261 §8.2.3: body types.
    if let Some(accepted) = opts.accepted_types {
        if !msg.body().is_empty() {
            match msg.content_type() {
                None => return Err(reject(400, "body without Content-Type")),
                Some(Err(e)) => return Err(reject(400, syntax("Content-Type", &e))),
                Some(Ok(ct)) => {
                    let known = accepted
                        .iter()
                        .any(|a| a.split_once('/').is_some_and(|(t, s)| ct.is(t, s)));
                    if !known {
                        return Err(reject(
                            415,
                            format!("unsupported media type {}/{}", ct.media_type, ct.subtype),
                        ));
                    }
                }
            }
        }
    }

    // RFC 3261 §21.4.7: nothing we could answer with is acceptable (RFC 4475 `sdp01`).
    if let Some(offered) = opts.response_types {
        if msg.count_lines(HeaderName::Accept) > 0 {
            let mut acceptable = false;
            for range in msg.accept() {
                let range = range.map_err(|e| reject(400, syntax("Accept", &e)))?;
                acceptable |= offered
                    .iter()
                    .any(|o| o.split_once('/').is_some_and(|(t, s)| range.matches(t, s)));
            }
            if !acceptable {
                return Err(reject(406, "no acceptable body type in Accept"));
            }
        }
    }
    Ok(())
}
