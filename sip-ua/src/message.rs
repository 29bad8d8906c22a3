//! The owned, editable SIP message the core builds, stores, matches and retransmits.
//!
//! The core edits requests while they live (a new CSeq and branch plus `Authorization` after a
//! challenge, a To tag on a response), so it keeps headers as an ordered list of owned lines and
//! serialises once, when a message leaves. Typed views of the values it needs are in
//! [`crate::values`].

use std::fmt;

use crate::values::{CSeq, NameAddr, Via, split_list};

/// A request method. Methods are case-sensitive (RFC 3261 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `INVITE`.
    Invite,
    /// `ACK`.
    Ack,
    /// `BYE`.
    Bye,
    /// `CANCEL`.
    Cancel,
    /// `OPTIONS`.
    Options,
    /// `REGISTER`.
    Register,
    /// `PRACK` (RFC 3262).
    Prack,
    /// `INFO` (RFC 6086).
    Info,
    /// `REFER` (RFC 3515).
    Refer,
    /// `NOTIFY` (RFC 6665).
    Notify,
    /// `SUBSCRIBE` (RFC 6665).
    Subscribe,
    /// `MESSAGE` (RFC 3428).
    Message,
    /// `UPDATE` (RFC 3311).
    Update,
    /// Any other method token, as written.
    Other(String),
}

impl Method {
    /// Maps a token to its method; unknown tokens become [`Method::Other`].
    pub fn parse(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Other(token) => token,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `Method SP Request-URI SP SIP/2.0`.
    Request {
        /// The method.
        method: Method,
        /// The Request-URI as written.
        uri: String,
    },
    /// `SIP/2.0 SP Status-Code SP Reason-Phrase`.
    Response {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// One header line: canonical name and raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    /// The header name in its canonical spelling (compact forms expanded).
    pub name: String,
    /// The value as written (a list header may hold several comma-separated values).
    pub value: String,
}

/// An owned SIP message.
///
/// ```
/// use sip_ua::{Method, SipMessage};
///
/// let mut m = SipMessage::request(Method::Options, "sip:bob@example.com");
/// m.push_header("i", "abc@host");
/// assert_eq!(m.call_id(), Some("abc@host"));
/// assert!(String::from_utf8(m.to_bytes()).unwrap().contains("Call-ID: abc@host\r\n"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// The start line.
    pub start: StartLine,
    headers: Vec<HeaderLine>,
    /// The body (its `Content-Length` is written by [`SipMessage::to_bytes`]).
    pub body: Vec<u8>,
}

/// Expands a compact header name and gives standard names their canonical spelling.
pub fn canonical_name(name: &str) -> String {
    const NAMES: &[(&str, Option<&str>)] = &[
        ("Via", Some("v")),
        ("From", Some("f")),
        ("To", Some("t")),
        ("Call-ID", Some("i")),
        ("CSeq", None),
        ("Contact", Some("m")),
        ("Max-Forwards", None),
        ("Content-Length", Some("l")),
        ("Content-Type", Some("c")),
        ("Content-Encoding", Some("e")),
        ("Supported", Some("k")),
        ("Subject", Some("s")),
        ("Event", Some("o")),
        ("Allow-Events", Some("u")),
        ("Refer-To", Some("r")),
        ("Referred-By", Some("b")),
        ("Session-Expires", Some("x")),
        ("Route", None),
        ("Record-Route", None),
        ("Expires", None),
        ("Min-Expires", None),
        ("Require", None),
        ("Proxy-Require", None),
        ("Unsupported", None),
        ("Allow", None),
        ("Accept", None),
        ("WWW-Authenticate", None),
        ("Proxy-Authenticate", None),
        ("Authorization", None),
        ("Proxy-Authorization", None),
        ("Retry-After", None),
        ("User-Agent", None),
        ("Server", None),
        ("Min-SE", None),
        ("RSeq", None),
        ("RAck", None),
        ("Reason", None),
        ("Subscription-State", None),
    ];
    for (full, compact) in NAMES {
        if full.eq_ignore_ascii_case(name) || compact.is_some_and(|c| c.eq_ignore_ascii_case(name))
        {
            return (*full).to_owned();
        }
    }
    name.to_owned()
}

fn name_is(line: &HeaderLine, canonical: &str) -> bool {
    line.name.eq_ignore_ascii_case(canonical)
}

impl SipMessage {
    /// A request with no headers yet.
    pub fn request(method: Method, uri: impl Into<String>) -> SipMessage {
        SipMessage {
            start: StartLine::Request {
                method,
                uri: uri.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response with no headers yet (see [`SipMessage::response_to`] for §8.2.6 copying).
    pub fn response(status: u16, reason: impl Into<String>) -> SipMessage {
        SipMessage {
            start: StartLine::Response {
                status,
                reason: reason.into(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `request` copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6);
    /// the reason phrase defaults to the standard one for `status`.
    pub fn response_to(request: &SipMessage, status: u16) -> SipMessage {
        let mut response = SipMessage::response(status, reason_phrase(status));
        for line in &request.headers {
            if ["Via", "From", "To", "Call-ID", "CSeq"]
                .iter()
                .any(|n| name_is(line, n))
            {
                response.headers.push(line.clone());
            }
        }
        response
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI of a request.
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response.
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// Every header line in order.
    pub fn header_lines(&self) -> &[HeaderLine] {
        &self.headers
    }

    /// The raw value of the first line named `name` (case-insensitive, compact forms accepted).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values_raw(name).next()
    }

    /// The raw value of every line named `name`, in order.
    pub fn header_values_raw<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let canonical = canonical_name(name);
        self.headers
            .iter()
            .filter(move |l| name_is(l, &canonical))
            .map(|l| l.value.as_str())
    }

    /// Every value of a list header named `name`, lines split at top-level commas.
    pub fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.header_values_raw(name).flat_map(split_list)
    }

    /// Appends a header line.
    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push(HeaderLine {
            name: canonical_name(name),
            value: value.into(),
        });
    }

    /// Inserts a header line before every other line (a new top Via).
    pub fn prepend_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.insert(
            0,
            HeaderLine {
                name: canonical_name(name),
                value: value.into(),
            },
        );
    }

    /// Replaces every line named `name` by one line with `value`, keeping the first position.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let canonical = canonical_name(name);
        let value = value.into();
        match self.headers.iter().position(|l| name_is(l, &canonical)) {
            Some(first) => {
                self.headers[first].value = value;
                let mut index = 0;
                self.headers.retain(|l| {
                    let keep = index <= first || !name_is(l, &canonical);
                    index += 1;
                    keep
                });
            }
            None => self.headers.push(HeaderLine {
                name: canonical,
                value,
            }),
        }
    }

    /// Removes every line named `name`.
    pub fn remove_header(&mut self, name: &str) {
        let canonical = canonical_name(name);
        self.headers.retain(|l| !name_is(l, &canonical));
    }

    /// Sets the body and its `Content-Type`.
    pub fn set_body(&mut self, content_type: &str, body: impl Into<Vec<u8>>) {
        self.set_header("Content-Type", content_type);
        self.body = body.into();
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// The CSeq, when present and well formed.
    pub fn cseq(&self) -> Option<CSeq> {
        self.header("CSeq").and_then(CSeq::parse)
    }

    /// The first Via value, when present and well formed.
    pub fn top_via(&self) -> Option<Via> {
        self.values("Via").next().and_then(Via::parse)
    }

    /// The From header, when well formed.
    pub fn from_header(&self) -> Option<NameAddr> {
        self.header("From").and_then(NameAddr::parse)
    }

    /// The To header, when well formed.
    pub fn to_header(&self) -> Option<NameAddr> {
        self.header("To").and_then(NameAddr::parse)
    }

    /// The body as text (SDP and the other bodies the core reads are UTF-8).
    pub fn body_text(&self) -> Option<&str> {
        if self.body.is_empty() {
            None
        } else {
            std::str::from_utf8(&self.body).ok()
        }
    }

    /// The wire form, with a `Content-Length` matching the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                out.extend_from_slice(method.as_str().as_bytes());
                out.push(b' ');
                out.extend_from_slice(uri.as_bytes());
                out.extend_from_slice(b" SIP/2.0\r\n");
            }
            StartLine::Response { status, reason } => {
                out.extend_from_slice(format!("SIP/2.0 {status} {reason}\r\n").as_bytes());
            }
        }
        for line in &self.headers {
            if name_is(line, "Content-Length") {
                continue;
            }
            out.extend_from_slice(line.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(line.value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// A one-line summary for logs: start line and Call-ID.
    pub fn summary(&self) -> String {
        match &self.start {
            StartLine::Request { method, uri } => format!("{method} {uri}"),
            StartLine::Response { status, reason } => {
                let method = self
                    .cseq()
                    .map(|c| c.method.to_string())
                    .unwrap_or_default();
                format!("{status} {reason} ({method})")
            }
        }
    }
}

impl fmt::Debug for SipMessage {
    // Headers may carry digest responses: Debug prints the start line and names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipMessage")
            .field("start", &self.start)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The standard reason phrase for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_header_replaces_all_lines_in_place() {
        let mut m = SipMessage::request(Method::Invite, "sip:a@b");
        m.push_header("Via", "SIP/2.0/UDP a");
        m.push_header("Route", "<sip:p1>");
        m.push_header("Route", "<sip:p2>");
        m.push_header("Max-Forwards", "70");
        m.set_header("route", "<sip:p3>");
        let names: Vec<_> = m.header_lines().iter().map(|l| l.value.clone()).collect();
        assert_eq!(names, ["SIP/2.0/UDP a", "<sip:p3>", "70"]);
    }

    #[test]
    fn compact_names_are_expanded() {
        let mut m = SipMessage::request(Method::Options, "sip:a@b");
        m.push_header("v", "SIP/2.0/WS x.invalid;branch=z9hG4bKabc");
        m.push_header("l", "99");
        assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKabc"));
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert!(text.starts_with("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS"));
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
    }

    #[test]
    fn response_copies_the_dialog_headers() {
        let mut req = SipMessage::request(Method::Register, "sip:example.com");
        req.push_header("Via", "SIP/2.0/UDP h;branch=z9hG4bK1");
        req.push_header("Max-Forwards", "70");
        req.push_header("From", "<sip:a@example.com>;tag=1");
        req.push_header("To", "<sip:a@example.com>");
        req.push_header("Call-ID", "c");
        req.push_header("CSeq", "1 REGISTER");
        let resp = SipMessage::response_to(&req, 401);
        assert_eq!(resp.reason(), Some("Unauthorized"));
        assert_eq!(resp.header_lines().len(), 5);
        assert!(resp.header("Max-Forwards").is_none());
    }
}
