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
use crate::values::NameAddr;

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
            Ok(addr) => check_addr("Contact", &addr)?,
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
    match msg.max_forwards() {
        Some(Ok(n)) if n > 255 => {
            return Err(reject(400, format!("Max-Forwards {n} above 255")));
        }
        Some(Err(e)) => return Err(reject(400, syntax("Max-Forwards", &e))),
        _ => {}
    }
    if let Some(date) = msg.header(HeaderName::Date) {
        if !is_rfc1123_gmt(date) {
            return Err(reject(400, "Date is not an RFC 1123 date in GMT"));
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

    if opts.proxy && matches!(msg.max_forwards(), Some(Ok(0))) {
        return Err(reject(483, "Max-Forwards reached 0"));
    }

    if opts.require_digest_credentials && method != Method::Ack && method != Method::Cancel {
        let has_digest = msg
            .headers_named(HeaderName::Authorization)
            .chain(msg.headers_named(HeaderName::ProxyAuthorization))
            .any(|v| {
                v.split([' ', '\t'])
                    .next()
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("Digest"))
            });
        if !has_digest {
            return Err(reject(401, "Digest credentials required"));
        }
    }

    // RFC 3261 §8.2.2.3: Require (ignored on ACK and CANCEL).
    if let Some(supported) = opts.supported {
        if method != Method::Ack && method != Method::Cancel {
            let unsupported: Vec<&'a str> = msg
                .headers_named(HeaderName::Require)
                .filter(|tag| !tag.is_empty())
                .filter(|tag| !supported.iter().any(|s| s.eq_ignore_ascii_case(tag)))
                .collect();
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
                Some(ct) => {
                    let media = media_type(ct);
                    if !accepted.iter().any(|a| a.eq_ignore_ascii_case(media)) {
                        return Err(reject(415, format!("unsupported media type {media}")));
                    }
                }
            }
        }
    }

    // RFC 3261 §21.4.7: nothing we could answer with is acceptable (RFC 4475 `sdp01`).
    if let Some(offered) = opts.response_types {
        if msg.count_lines(HeaderName::Accept) > 0 {
            let acceptable = msg.headers_named(HeaderName::Accept).any(|range| {
                offered
                    .iter()
                    .any(|o| media_range_matches(media_type(range), o))
            });
            if !acceptable {
                return Err(reject(406, "no acceptable body type in Accept"));
            }
        }
    }
    Ok(())
}

/// `type/subtype` of a Content-Type or Accept value, parameters and white space dropped.
fn media_type(value: &str) -> &str {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t', '\r', '\n'])
}

fn media_range_matches(range: &str, media: &str) -> bool {
    if range == "*/*" {
        return true;
    }
    match (range.split_once('/'), media.split_once('/')) {
        (Some((rt, "*")), Some((mt, _))) => rt.eq_ignore_ascii_case(mt),
        _ => range.eq_ignore_ascii_case(media),
    }
}

/// RFC 3261 §20.17: `Date` is an RFC 1123 date that MUST be in GMT, e.g.
/// `Sat, 13 Nov 2010 23:29:00 GMT`.
fn is_rfc1123_gmt(value: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some((day, rest)) = value.split_once(',') else {
        return false;
    };
    let parts: Vec<&str> = rest.split_ascii_whitespace().collect();
    let [mday, month, year, time, zone] = parts.as_slice() else {
        return false;
    };
    let time_ok = {
        let t: Vec<&str> = time.split(':').collect();
        t.len() == 3 && t.iter().all(|p| digits(p, 2))
    };
    DAYS.contains(&day.trim())
        && digits(mday, 2)
        && MONTHS.contains(month)
        && digits(year, 4)
        && time_ok
        && *zone == "GMT"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_rfc1123_gmt("Sat, 15 Oct 2005 04:44:56 GMT"));
        assert!(!is_rfc1123_gmt("Fri, 01 Jan 2010 16:00:00 EST"));
        assert!(!is_rfc1123_gmt("yesterday"));
    }

    #[test]
    fn media_ranges() {
        assert!(media_range_matches("*/*", "application/sdp"));
        assert!(media_range_matches("application/*", "application/sdp"));
        assert!(media_range_matches("Application/SDP", "application/sdp"));
        assert!(!media_range_matches(
            "text/nobodyKnowsThis",
            "application/sdp"
        ));
        assert_eq!(media_type(" application/sdp ;charset=x"), "application/sdp");
    }
}
