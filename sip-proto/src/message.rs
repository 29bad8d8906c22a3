//! The borrowed message view: start line, ordered headers, body, typed accessors.

use crate::error::{Error, Result};
use crate::header_name::HeaderName;
use crate::headers::{HeaderTable, Headers, Values, matches_name};
use crate::limits::Limits;
use crate::method::Method;
use crate::parser::{Mode, parse_engine};

/// A byte range of the message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    pub(crate) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// Where the start-line parts lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartSpans {
    Request {
        method: Span,
        uri: Span,
        version: Span,
    },
    Response {
        version: Span,
        status: u16,
        reason: Span,
    },
}

/// Everything the parser learnt about a message, as offsets: shared by [`MessageRef`] and
/// the owned [`Message`](crate::Message).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Offset of the start line (after skipped leading CRLFs).
    pub(crate) message_start: u32,
    pub(crate) start: StartSpans,
    pub(crate) headers: HeaderTable,
    /// Length of the header section including the empty line.
    pub(crate) head_len: u32,
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI as written (parse it with [`MessageRef::request_uri`]).
        uri: &'a str,
        /// The SIP version as written (`SIP/2.0`).
        version: &'a str,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// The SIP version as written.
        version: &'a str,
        /// The status code, 100 to 699.
        status: u16,
        /// The reason phrase, possibly empty.
        reason: &'a str,
    },
}

/// A parsed SIP message borrowing the bytes it was parsed from.
///
/// Parsing fills a fixed table of header offsets and allocates nothing; typed header values
/// are parsed only when asked for. Use [`MessageRef::to_owned_message`] to keep a message.
///
/// ```
/// use sip_proto::{HeaderName, Method, MessageRef};
///
/// let bytes = b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP g\r\n\
///               i: abc@h\r\nContent-Length: 0\r\n\r\n";
/// let msg = MessageRef::parse(bytes)?;
/// assert_eq!(msg.method(), Some(Method::Options));
/// assert_eq!(msg.call_id(), Some("abc@h"));
/// assert_eq!(msg.headers_named(HeaderName::Via).count(), 2);
/// # Ok::<(), sip_proto::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct MessageRef<'a> {
    /// The input from its first byte to the end of the header section.
    head: &'a str,
    /// The body.
    body: &'a [u8],
    layout: Layout,
}

impl<'a> MessageRef<'a> {
    pub(crate) fn from_parts(head: &'a str, body: &'a [u8], layout: Layout) -> Self {
        MessageRef { head, body, layout }
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The parsed input up to the end of the header section (skipped CRLFs included).
    pub(crate) fn head_text(&self) -> &'a str {
        self.head
    }

    /// Whether the bytes are already what the serializer would write: no skipped leading
    /// CRLFs and exactly one `Content-Length`, equal to the body length.
    pub(crate) fn is_canonical(&self) -> bool {
        self.layout.message_start == 0
            && self.count_lines(HeaderName::ContentLength) == 1
            && self
                .header(HeaderName::ContentLength)
                .and_then(|v| v.parse::<usize>().ok())
                == Some(self.body.len())
    }

    /// A blank view for the parser to fill in place.
    #[inline]
    pub(crate) fn empty() -> Self {
        MessageRef {
            head: "",
            body: &[],
            layout: Layout {
                message_start: 0,
                start: StartSpans::Response {
                    version: Span::default(),
                    status: 0,
                    reason: Span::default(),
                },
                headers: HeaderTable::default(),
                head_len: 0,
            },
        }
    }

    pub(crate) fn layout_mut(&mut self) -> &mut Layout {
        &mut self.layout
    }

    pub(crate) fn set_text(&mut self, head: &'a str, body: &'a [u8]) {
        self.head = head;
        self.body = body;
    }

    /// Parses exactly one message with default [`Limits`]: the input must end where the body
    /// ends (a body without `Content-Length` runs to the end of the input).
    #[inline]
    pub fn parse(input: &'a [u8]) -> Result<Self> {
        Self::parse_with(input, &Limits::default())
    }

    /// [`MessageRef::parse`] with explicit limits.
    #[inline]
    pub fn parse_with(input: &'a [u8], limits: &Limits) -> Result<Self> {
        let mut msg = MessageRef::empty();
        msg.parse_in_place_with(input, limits)?;
        Ok(msg)
    }

    /// A view of no message (a response with status 0 and no headers), to parse into with
    /// [`MessageRef::parse_in_place`].
    pub fn blank() -> Self {
        MessageRef::empty()
    }

    /// [`MessageRef::parse`] into this view, reusing its header table: the fast path for
    /// many messages. The table is about 1 KiB; returning a fresh view by value costs a
    /// blank table and copies of it, which for a small message weigh like a tenth of its
    /// parse (the `httparse` style: the caller owns the header storage).
    ///
    /// On error the view is left [blank](MessageRef::blank), never half filled.
    ///
    /// ```
    /// use sip_proto::MessageRef;
    ///
    /// let inputs: [&[u8]; 2] = [
    ///     b"OPTIONS sip:a@h SIP/2.0\r\nCall-ID: 1@h\r\n\r\n",
    ///     b"SIP/2.0 200 OK\r\nCall-ID: 2@h\r\nContent-Length: 0\r\n\r\n",
    /// ];
    /// let mut msg = MessageRef::blank();
    /// for (i, bytes) in inputs.iter().enumerate() {
    ///     msg.parse_in_place(bytes)?;
    ///     assert_eq!(msg.call_id(), Some(format!("{}@h", i + 1).as_str()));
    /// }
    /// assert!(msg.parse_in_place(b"not SIP").is_err());
    /// assert_eq!(msg.header_count(), 0);
    /// # Ok::<(), sip_proto::Error>(())
    /// ```
    #[inline]
    pub fn parse_in_place(&mut self, input: &'a [u8]) -> Result<()> {
        self.parse_in_place_with(input, &Limits::default())
    }

    /// [`MessageRef::parse_in_place`] with explicit limits.
    #[inline]
    pub fn parse_in_place_with(&mut self, input: &'a [u8], limits: &Limits) -> Result<()> {
        let outcome = match parse_engine(input, limits, Mode::Datagram, self) {
            Ok(Some(end)) if end == input.len() => return Ok(()),
            Ok(Some(end)) => Error::TrailingBytes {
                offset: end,
                len: input.len() - end,
            },
            Ok(None) => Error::Syntax {
                offset: input.len(),
                expected: "end of header section",
            },
            Err(e) => e,
        };
        self.clear();
        Err(outcome)
    }

    /// Makes this the blank view without touching the (unused) header slots.
    fn clear(&mut self) {
        self.head = "";
        self.body = &[];
        self.layout.message_start = 0;
        self.layout.start = StartSpans::Response {
            version: Span::default(),
            status: 0,
            reason: Span::default(),
        };
        self.layout.headers.len = 0;
        self.layout.head_len = 0;
    }

    fn text(&self, span: Span) -> &'a str {
        self.head.get(span.range()).unwrap_or("")
    }

    /// The start line.
    pub fn start_line(&self) -> StartLine<'a> {
        match self.layout.start {
            StartSpans::Request {
                method,
                uri,
                version,
            } => StartLine::Request {
                method: Method::parse(self.text(method)),
                uri: self.text(uri),
                version: self.text(version),
            },
            StartSpans::Response {
                version,
                status,
                reason,
            } => StartLine::Response {
                version: self.text(version),
                status,
                reason: self.text(reason),
            },
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.layout.start, StartSpans::Request { .. })
    }

    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        !self.is_request()
    }

    /// The request method (`None` for a response).
    pub fn method(&self) -> Option<Method<'a>> {
        match self.layout.start {
            StartSpans::Request { method, .. } => Some(Method::parse(self.text(method))),
            StartSpans::Response { .. } => None,
        }
    }

    /// The Request-URI as written (`None` for a response).
    pub fn request_uri_str(&self) -> Option<&'a str> {
        match self.layout.start {
            StartSpans::Request { uri, .. } => Some(self.text(uri)),
            StartSpans::Response { .. } => None,
        }
    }

    /// The SIP version as written (`SIP/2.0`).
    pub fn version(&self) -> &'a str {
        match self.layout.start {
            StartSpans::Request { version, .. } | StartSpans::Response { version, .. } => {
                self.text(version)
            }
        }
    }

    /// The status code (`None` for a request).
    pub fn status(&self) -> Option<u16> {
        match self.layout.start {
            StartSpans::Response { status, .. } => Some(status),
            StartSpans::Request { .. } => None,
        }
    }

    /// The reason phrase (`None` for a request).
    pub fn reason(&self) -> Option<&'a str> {
        match self.layout.start {
            StartSpans::Response { reason, .. } => Some(self.text(reason)),
            StartSpans::Request { .. } => None,
        }
    }

    /// Every header line, in order.
    pub fn headers(&self) -> Headers<'_, 'a> {
        Headers {
            src: self.head,
            slots: self.layout.headers.as_slice().iter(),
        }
    }

    /// All values of header `name` across the message, in order; list-valued headers are
    /// split at top-level commas (see [`HeaderName::is_list`]).
    pub fn headers_named<'s>(&'s self, name: HeaderName<'s>) -> Values<'s, 'a> {
        Values::new(self.head, self.layout.headers.as_slice(), name)
    }

    /// The first value of header `name` (the first element for a list header).
    pub fn header(&self, name: HeaderName<'_>) -> Option<&'a str> {
        let slot = self
            .layout
            .headers
            .as_slice()
            .iter()
            .find(|s| matches_name(s, self.head, &name))?;
        let value = slot.value(self.head);
        if name.is_list() && memchr::memchr(b',', value.as_bytes()).is_some() {
            crate::grammar::split_list(value).next().map(|(v, _)| v)
        } else {
            Some(value)
        }
    }

    /// How many header lines named `name` the message has (a list header line carrying
    /// several values counts once).
    pub fn count_lines(&self, name: HeaderName<'_>) -> usize {
        self.layout
            .headers
            .as_slice()
            .iter()
            .filter(|s| matches_name(s, self.head, &name))
            .count()
    }

    /// The number of header lines.
    pub fn header_count(&self) -> usize {
        self.layout.headers.len
    }

    /// The `Call-ID` value.
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(HeaderName::CallId)
    }

    /// The message body (exactly `Content-Length` bytes).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Byte offset of `part` (a slice of this message) from the start of the parsed input;
    /// `None` for a slice from elsewhere. Used to rebase value-parser error offsets.
    pub fn offset_of(&self, part: &str) -> Option<usize> {
        let start = self.head.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        (p >= start && p + part.len() <= start + self.head.len()).then(|| p - start)
    }

    /// The header section text (start line and headers, without the empty line), for logs.
    pub fn head_str(&self) -> &'a str {
        let start = self.layout.message_start as usize;
        self.head
            .get(start..)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }
}

impl std::fmt::Debug for MessageRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageRef")
            .field("start_line", &self.start_line())
            .field("headers", &self.header_count())
            .field("body_len", &self.body().len())
            .finish()
    }
}

/// Structural equality: same start line (the version compared case-insensitively), the same
/// header lines in the same order (names compared as [`HeaderName`]s, so `i` equals
/// `Call-ID`; values byte for byte) and the same body. `Content-Length` lines take no part:
/// the body decides the length, and the serializer always writes it afresh.
impl PartialEq for MessageRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        let start_eq = match (self.start_line(), other.start_line()) {
            (
                StartLine::Request {
                    method: m1,
                    uri: u1,
                    version: v1,
                },
                StartLine::Request {
                    method: m2,
                    uri: u2,
                    version: v2,
                },
            ) => m1 == m2 && u1 == u2 && v1.eq_ignore_ascii_case(v2),
            (
                StartLine::Response {
                    version: v1,
                    status: s1,
                    reason: r1,
                },
                StartLine::Response {
                    version: v2,
                    status: s2,
                    reason: r2,
                },
            ) => s1 == s2 && r1 == r2 && v1.eq_ignore_ascii_case(v2),
            _ => false,
        };
        let not_length = |h: &crate::headers::Header<'_>| h.name != HeaderName::ContentLength;
        start_eq
            && self.body() == other.body()
            && self
                .headers()
                .filter(not_length)
                .map(|h| (h.name, h.value))
                .eq(other
                    .headers()
                    .filter(not_length)
                    .map(|h| (h.name, h.value)))
    }
}

impl Eq for MessageRef<'_> {}
