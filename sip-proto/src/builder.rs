//! Request and response builders producing owned [`Message`]s.
//!
//! Values are given as header text (`"Alice" <sip:alice@example.com>`); each is checked to
//! stay on its line, and the finished message is re-parsed, so a builder never produces
//! bytes this crate would refuse. Errors are kept until [`RequestBuilder::build`] /
//! [`ResponseBuilder::build`] so calls chain.
//!
//! ```
//! use sip_proto::builder::{RequestBuilder, ResponseBuilder};
//! use sip_proto::{HeaderName, Method};
//!
//! let invite = RequestBuilder::new(Method::Invite, "sip:bob@example.com")
//!     .via("WSS", "df7jal23ls0d.invalid")
//!     .from("\"Alice\" <sip:alice@example.com>")
//!     .to("<sip:bob@example.com>")
//!     .contact("<sip:alice@df7jal23ls0d.invalid;transport=ws>")
//!     .body("application/sdp", b"v=0\r\n".to_vec())
//!     .build()?;
//! let ringing = ResponseBuilder::for_request(&invite.as_ref(), 180)
//!     .to_tag("8321234356")
//!     .build()?;
//! let view = ringing.as_ref();
//! assert_eq!(view.status(), Some(180));
//! assert_eq!(view.to().unwrap()?.tag(), Some("8321234356"));
//! assert_eq!(view.call_id(), invite.as_ref().call_id());
//! # Ok::<(), sip_proto::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::generate;
use crate::header_name::HeaderName;
use crate::message::{MessageRef, StartLine};
use crate::method::Method;
use crate::owned::{Message, check_value, checked_name};
use crate::serialize::{write_headers, write_start_line};
use crate::uri::Uri;
use crate::values::NameAddr;

/// Header lines being collected, with the first error met.
#[derive(Debug, Clone, Default)]
struct Lines {
    lines: Vec<(String, String)>,
    error: Option<Error>,
}

impl Lines {
    fn push(&mut self, name: HeaderName<'_>, value: impl Into<String>) {
        let value = value.into();
        let checked = checked_name(&name).and_then(|n| check_value(&value).map(|()| n));
        match checked {
            Ok(n) => self.lines.push((n.to_owned(), value)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    fn has(&self, name: HeaderName<'_>) -> bool {
        self.lines.iter().any(|(n, _)| HeaderName::parse(n) == name)
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    fn finish(self, start: &StartLine<'_>, body: Vec<u8>) -> Result<Message> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut head = Vec::with_capacity(256);
        write_start_line(&mut head, start);
        write_headers(
            &mut head,
            self.lines
                .iter()
                .map(|(n, v)| (HeaderName::parse(n), n.as_str(), v.as_str())),
            body.len(),
        );
        Message::from_head_and_body(head, body)
    }
}

/// Builds a request. `Via`, `From` and `To` are required; `Call-ID` (random),
/// `CSeq` (1), `Max-Forwards` (70) and the `From` tag (random) are filled in when not given.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: String,
    uri: String,
    lines: Lines,
    cseq: u32,
    max_forwards: u8,
    body: Vec<u8>,
}

impl RequestBuilder {
    /// Starts a request for `method` to `uri`.
    pub fn new(method: Method<'_>, uri: &str) -> Self {
        let mut lines = Lines::default();
        if !crate::grammar::is_token(method.as_str()) {
            lines.fail(Error::InvalidInput {
                what: "method",
                reason: "not a token",
            });
        }
        if let Err(e) = Uri::parse(uri) {
            lines.fail(e);
        }
        RequestBuilder {
            method: method.as_str().to_owned(),
            uri: uri.to_owned(),
            lines,
            cseq: 1,
            max_forwards: 70,
            body: Vec::new(),
        }
    }

    /// Adds a `Via` for `transport` (`UDP`, `TCP`, `TLS`, `WS`, `WSS`) and `sent_by`
    /// (`host[:port]`) with a fresh branch and `rport` (RFC 3581).
    pub fn via(self, transport: &str, sent_by: &str) -> Self {
        let branch = generate::branch();
        self.via_with_branch(transport, sent_by, &branch)
    }

    /// Adds a `Via` with a given branch (for a CANCEL or ACK that reuses the INVITE's).
    pub fn via_with_branch(mut self, transport: &str, sent_by: &str, branch: &str) -> Self {
        self.lines.push(
            HeaderName::Via,
            format!("SIP/2.0/{transport} {sent_by};branch={branch};rport"),
        );
        self
    }

    /// Sets `From` (`"Name" <uri>` or `<uri>`); a random tag is added when it has none.
    pub fn from(mut self, addr: &str) -> Self {
        match NameAddr::parse(addr) {
            Ok(a) if a.tag().is_some() => self.lines.push(HeaderName::From, addr),
            Ok(_) => self
                .lines
                .push(HeaderName::From, format!("{addr};tag={}", generate::tag())),
            Err(e) => self.lines.fail(e),
        }
        self
    }

    /// Sets `To`.
    pub fn to(mut self, addr: &str) -> Self {
        match NameAddr::parse(addr) {
            Ok(_) => self.lines.push(HeaderName::To, addr),
            Err(e) => self.lines.fail(e),
        }
        self
    }

    /// Sets `Call-ID` (random when not called).
    pub fn call_id(mut self, id: &str) -> Self {
        self.lines.push(HeaderName::CallId, id);
        self
    }

    /// Sets the `CSeq` number (the method is the request's).
    pub fn cseq(mut self, seq: u32) -> Self {
        self.cseq = seq;
        self
    }

    /// Sets `Max-Forwards` (70 when not called).
    pub fn max_forwards(mut self, hops: u8) -> Self {
        self.max_forwards = hops;
        self
    }

    /// Adds a `Contact`.
    pub fn contact(mut self, addr: &str) -> Self {
        self.lines.push(HeaderName::Contact, addr);
        self
    }

    /// Adds a `Route`.
    pub fn route(mut self, addr: &str) -> Self {
        self.lines.push(HeaderName::Route, addr);
        self
    }

    /// Adds any header line.
    pub fn header(mut self, name: HeaderName<'_>, value: &str) -> Self {
        self.lines.push(name, value);
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.lines.push(HeaderName::ContentType, content_type);
        self.body = body;
        self
    }

    /// Finishes the request.
    pub fn build(self) -> Result<Message> {
        let RequestBuilder {
            method,
            uri,
            lines,
            cseq,
            max_forwards,
            body,
        } = self;
        for required in [HeaderName::Via, HeaderName::From, HeaderName::To] {
            if !lines.has(required) {
                return Err(Error::MissingHeader {
                    header: required.as_str(),
                });
            }
        }
        // Put the core headers first, in the customary order, then the rest as given.
        let mut ordered = Lines {
            lines: Vec::with_capacity(lines.lines.len() + 4),
            error: lines.error.clone(),
        };
        let take = |name: HeaderName<'_>, ordered: &mut Lines| {
            for (n, v) in &lines.lines {
                if HeaderName::parse(n) == name {
                    ordered.lines.push((n.clone(), v.clone()));
                }
            }
        };
        take(HeaderName::Via, &mut ordered);
        ordered.push(HeaderName::MaxForwards, max_forwards.to_string());
        take(HeaderName::To, &mut ordered);
        take(HeaderName::From, &mut ordered);
        if lines.has(HeaderName::CallId) {
            take(HeaderName::CallId, &mut ordered);
        } else {
            ordered.push(HeaderName::CallId, generate::call_id());
        }
        ordered.push(HeaderName::CSeq, format!("{cseq} {method}"));
        let core = [
            HeaderName::Via,
            HeaderName::To,
            HeaderName::From,
            HeaderName::CallId,
        ];
        for (n, v) in &lines.lines {
            if !core.contains(&HeaderName::parse(n)) {
                ordered.lines.push((n.clone(), v.clone()));
            }
        }
        let start = StartLine::Request {
            method: Method::parse(&method),
            uri: &uri,
            version: crate::SIP_VERSION,
        };
        ordered.finish(&start, body)
    }
}

/// Builds a response. [`ResponseBuilder::for_request`] copies what RFC 3261 §8.2.6.2 says
/// a response carries from its request: every `Via` in order, `From`, `To`, `Call-ID` and
/// `CSeq` (plus `Timestamp`, §8.2.6.1).
#[derive(Debug, Clone)]
pub struct ResponseBuilder {
    status: u16,
    reason: String,
    lines: Lines,
    to_tag: Option<String>,
    body: Vec<u8>,
}

impl ResponseBuilder {
    /// A response with `status` and its standard reason phrase, with no headers yet.
    pub fn new(status: u16) -> Self {
        let mut lines = Lines::default();
        if !(100..=699).contains(&status) {
            lines.fail(Error::InvalidInput {
                what: "status code",
                reason: "not between 100 and 699",
            });
        }
        ResponseBuilder {
            status,
            reason: crate::status::reason_phrase(status).to_owned(),
            lines,
            to_tag: None,
            body: Vec::new(),
        }
    }

    /// A response to `request`, copying Via, From, To, Call-ID, CSeq and Timestamp.
    pub fn for_request(request: &MessageRef<'_>, status: u16) -> Self {
        let mut builder = ResponseBuilder::new(status);
        if request.is_response() {
            builder.lines.fail(Error::InvalidInput {
                what: "request",
                reason: "cannot answer a response",
            });
        }
        for name in [
            HeaderName::Via,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            if request.count_lines(name) == 0 {
                builder.lines.fail(Error::MissingHeader {
                    header: name.as_str(),
                });
            }
        }
        for h in request.headers() {
            if matches!(
                h.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
                    | HeaderName::Timestamp
            ) {
                // Copied line by line, folds flattened so the value stays on one line.
                builder.lines.push(h.name, h.value_unfolded().into_owned());
            }
        }
        builder
    }

    /// Replaces the reason phrase.
    pub fn reason(mut self, reason: &str) -> Self {
        if reason.bytes().any(|b| b < 0x20 && b != b'\t') {
            self.lines.fail(Error::InvalidInput {
                what: "reason phrase",
                reason: "contains control characters",
            });
        }
        self.reason = reason.to_owned();
        self
    }

    /// Adds `tag` to `To` unless it already has one (RFC 3261 §8.2.6.2: every response but
    /// 100 carries the UAS's tag; use the same tag for all responses of a dialog).
    pub fn to_tag(mut self, tag: &str) -> Self {
        if !crate::grammar::is_token(tag) {
            self.lines.fail(Error::InvalidInput {
                what: "To tag",
                reason: "not a token",
            });
        }
        self.to_tag = Some(tag.to_owned());
        self
    }

    /// Adds any header line.
    pub fn header(mut self, name: HeaderName<'_>, value: &str) -> Self {
        self.lines.push(name, value);
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.lines.push(HeaderName::ContentType, content_type);
        self.body = body;
        self
    }

    /// Finishes the response.
    pub fn build(mut self) -> Result<Message> {
        if let Some(tag) = &self.to_tag {
            if let Some((_, to)) = self
                .lines
                .lines
                .iter_mut()
                .find(|(n, _)| HeaderName::parse(n) == HeaderName::To)
            {
                let has_tag = match NameAddr::parse(to) {
                    Ok(addr) => addr.tag().is_some(),
                    Err(e) => return Err(e),
                };
                if !has_tag {
                    to.push_str(";tag=");
                    to.push_str(tag);
                }
            }
        }
        let start = StartLine::Response {
            version: crate::SIP_VERSION,
            status: self.status,
            reason: &self.reason,
        };
        self.lines.finish(&start, self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Message {
        RequestBuilder::new(Method::Invite, "sip:bob@example.com")
            .via("UDP", "192.0.2.1:5060")
            .from("<sip:alice@example.com>")
            .to("\"Bob\" <sip:bob@example.com>")
            .cseq(7)
            .header(HeaderName::Extension("X-Door"), "front")
            .body("application/sdp", b"v=0\r\n".to_vec())
            .build()
            .unwrap()
    }

    #[test]
    fn request_has_the_mandatory_headers() {
        let msg = invite();
        let m = msg.as_ref();
        assert_eq!(m.method(), Some(Method::Invite));
        assert!(
            m.top_via()
                .unwrap()
                .unwrap()
                .branch()
                .unwrap()
                .starts_with("z9hG4bK")
        );
        assert!(m.from().unwrap().unwrap().tag().is_some());
        assert_eq!(m.to().unwrap().unwrap().tag(), None);
        assert_eq!(m.max_forwards().unwrap().unwrap().0, 70);
        assert_eq!(m.cseq().unwrap().unwrap().seq, 7);
        assert_eq!(m.cseq().unwrap().unwrap().method, Method::Invite);
        assert_eq!(m.content_length().unwrap().unwrap().0, 5);
        assert_eq!(m.body(), b"v=0\r\n");
        assert!(m.call_id().is_some_and(|c| c.len() >= 16));
        let verdict = crate::validate::validate(&m, &Default::default());
        assert_eq!(verdict, crate::validate::Verdict::Accept);
    }

    #[test]
    fn response_copies_request_headers_and_adds_to_tag() {
        let req = invite();
        let resp = ResponseBuilder::for_request(&req.as_ref(), 200)
            .to_tag("abc")
            .build()
            .unwrap();
        let (q, r) = (req.as_ref(), resp.as_ref());
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.reason(), Some("OK"));
        assert_eq!(q.header(HeaderName::Via), r.header(HeaderName::Via));
        assert_eq!(q.header(HeaderName::From), r.header(HeaderName::From));
        assert_eq!(q.call_id(), r.call_id());
        assert_eq!(q.header(HeaderName::CSeq), r.header(HeaderName::CSeq));
        assert_eq!(r.to().unwrap().unwrap().tag(), Some("abc"));
        assert_eq!(r.header(HeaderName::Extension("X-Door")), None);
        // An existing To tag is kept.
        let again = ResponseBuilder::for_request(&r, 200).to_tag("zzz");
        assert!(again.build().is_err(), "a response cannot be answered");
    }

    #[test]
    fn bad_input_is_refused_at_build() {
        let missing = RequestBuilder::new(Method::Options, "sip:a@b").build();
        assert!(matches!(
            missing,
            Err(Error::MissingHeader { header: "Via" })
        ));
        let injected = RequestBuilder::new(Method::Options, "sip:a@b")
            .via("UDP", "h")
            .from("<sip:a@b>")
            .to("<sip:a@b>")
            .header(HeaderName::Subject, "hi\r\nEvil: 1")
            .build();
        assert!(matches!(injected, Err(Error::InvalidInput { .. })));
        assert!(
            RequestBuilder::new(Method::Options, "<sip:a@b>")
                .build()
                .is_err()
        );
        assert!(ResponseBuilder::new(1000).build().is_err());
    }
}
