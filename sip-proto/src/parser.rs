//! The message parser: start line (with `nom`), header lines (scanned with `memchr`), body
//! sliced by `Content-Length`.
//!
//! Three entry points share one engine:
//! - [`parse_stream`]: for TCP/TLS byte streams; says whether a whole message is there
//!   ([`Parsed::Complete`] with the bytes consumed) or more bytes are needed
//!   ([`Parsed::Partial`], not an error).
//! - [`parse_datagram`]: for UDP datagrams and WebSocket messages; a body without
//!   `Content-Length` runs to the end, and bytes after the body are reported as trailing
//!   (RFC 4475 `dblreq`), not parsed.
//! - [`MessageRef::parse`](crate::MessageRef::parse): exactly one message, nothing after it.
//!
//! Leading `CRLF`s before the start line are skipped (RFC 3261 §7.5). Lines may end in `CRLF`
//! or a bare `LF`; a `CR` anywhere else in the header section is refused. The header section
//! must be UTF-8. Nothing here allocates.

use memchr::memchr2;
use nom::IResult;
use nom::Parser as _;
use nom::bytes::complete::{tag_no_case, take, take_while1};
use nom::character::complete::{char, digit1};

use crate::error::{Error, Result};
use crate::grammar::is_token_char;
use crate::header_name::{EXTENSION_INDEX, HeaderName, lookup};
use crate::headers::Slot;
use crate::limits::Limits;
use crate::message::{MessageRef, Span, StartSpans};

/// Outcome of parsing from a stream buffer.
// `Complete` carries the header table inline (about 1 KiB): boxing it would allocate on
// every parse, which the zero-allocation design rules out.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Parsed<'a> {
    /// A whole message is at the start of the buffer.
    Complete {
        /// The message, borrowing the buffer.
        message: MessageRef<'a>,
        /// How many bytes of the buffer it used (skipped leading `CRLF`s included).
        consumed: usize,
    },
    /// The buffer holds the beginning of a message; read more and call again.
    Partial,
}

/// A message parsed from one datagram, with whatever followed it.
#[derive(Debug, Clone)]
pub struct Datagram<'a> {
    /// The first message in the datagram.
    pub message: MessageRef<'a>,
    /// Bytes after the message's body (empty for a well-formed datagram). RFC 3261 §18.3
    /// says they are discarded.
    pub trailing: &'a [u8],
}

/// Parses the message at the start of a stream buffer with default [`Limits`].
///
/// A missing `Content-Length` counts as zero (RFC 3261 §18.3 makes it mandatory on streams).
/// Conflicting `Content-Length` values are an error: the stream cannot be framed any more.
#[inline]
pub fn parse_stream(input: &[u8]) -> Result<Parsed<'_>> {
    parse_stream_with(input, &Limits::default())
}

/// [`parse_stream`] with explicit limits.
#[inline]
pub fn parse_stream_with<'a>(input: &'a [u8], limits: &Limits) -> Result<Parsed<'a>> {
    let mut message = MessageRef::empty();
    match parse_engine(input, limits, Mode::Stream, &mut message)? {
        Some(consumed) => Ok(Parsed::Complete { message, consumed }),
        None => Ok(Parsed::Partial),
    }
}

/// Parses the first message of a datagram with default [`Limits`].
///
/// Without `Content-Length` the body runs to the end of the datagram; a `Content-Length`
/// larger than the bytes present is an error (RFC 4475 `clerr`). With several
/// `Content-Length` headers the first one frames the body ([`validate`](crate::validate)
/// then answers 400).
#[inline]
pub fn parse_datagram(input: &[u8]) -> Result<Datagram<'_>> {
    parse_datagram_with(input, &Limits::default())
}

/// [`parse_datagram`] with explicit limits.
#[inline]
pub fn parse_datagram_with<'a>(input: &'a [u8], limits: &Limits) -> Result<Datagram<'a>> {
    let mut message = MessageRef::empty();
    match parse_engine(input, limits, Mode::Datagram, &mut message)? {
        Some(consumed) => Ok(Datagram {
            message,
            trailing: &input[consumed..],
        }),
        // Datagram mode never asks for more input.
        None => Err(Error::Syntax {
            offset: input.len(),
            expected: "end of header section",
        }),
    }
}

/// Stream buffers larger than this are checked for a complete header section before parsing.
const STREAM_PRECHECK_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Stream,
    Datagram,
    /// Index a header section whose body is kept elsewhere (the owned message).
    HeadOnly,
}

/// Indexes a header section (start line to empty line) produced by this crate.
pub(crate) fn parse_head_only(head: &str) -> Result<MessageRef<'_>> {
    let limits = Limits {
        max_message_size: usize::MAX / 2,
        max_line_length: usize::MAX / 2,
        ..Limits::default()
    };
    let mut message = MessageRef::empty();
    match parse_engine(head.as_bytes(), &limits, Mode::HeadOnly, &mut message)? {
        Some(_) => Ok(message),
        None => Err(Error::Syntax {
            offset: head.len(),
            expected: "end of header section",
        }),
    }
}

/// Offsets are stored as `u32`; [`parse_engine`] looks at no more than `u32::MAX` bytes of
/// its input, so this never truncates.
#[inline]
fn to_u32(n: usize) -> u32 {
    n as u32
}

/// Parses into `msg` (filled in place: the header table is large and copying it costs more
/// than the parse of a small message). Returns the bytes consumed, or `None` when the
/// stream needs more bytes.
#[inline]
pub(crate) fn parse_engine<'a>(
    input: &'a [u8],
    limits: &Limits,
    mode: Mode,
    msg: &mut MessageRef<'a>,
) -> Result<Option<usize>> {
    let need_more = |at: usize| -> Result<Option<usize>> {
        match mode {
            Mode::Stream if input.len() > limits.max_message_size => Err(Error::Limit {
                what: "message size",
                limit: limits.max_message_size,
                offset: limits.max_message_size,
            }),
            Mode::Stream => Ok(None),
            Mode::Datagram | Mode::HeadOnly => Err(Error::Syntax {
                offset: at,
                expected: "CRLF",
            }),
        }
    };

    // Offsets are u32: look at no more than u32::MAX bytes (far above any sane limit).
    let input = &input[..input.len().min(u32::MAX as usize)];

    // RFC 3261 §7.5: ignore CRLFs before the start line.
    let mut pos = 0;
    while let Some(b'\r' | b'\n') = input.get(pos) {
        pos += 1;
    }
    let message_start = pos;

    // A stream buffer is parsed again after every read until the message is whole. For a
    // large buffer, first look for the end of the header section with one SIMD scan, so a
    // peer trickling a big header in small pieces costs a scan per read, not a parse.
    if mode == Mode::Stream && input.len() - pos > STREAM_PRECHECK_BYTES {
        let rest = &input[pos..];
        let ended = memchr::memmem::find(rest, b"\n\r\n").is_some()
            || memchr::memmem::find(rest, b"\n\n").is_some();
        if !ended {
            return need_more(input.len());
        }
    }

    // Start line.
    let Some((line_end, next)) = find_line(input, pos, limits)? else {
        return need_more(input.len());
    };
    let start = parse_start_line(&input[pos..line_end], pos)?;
    pos = next;

    // Header lines.
    let max_headers = limits.effective_max_headers();
    let table = &mut msg.layout_mut().headers;
    table.len = 0;
    // The slots from the first to the last Content-Length line, so that framing does not
    // search the whole table again.
    let mut length_lines = 0..0;
    let head_end = loop {
        let Some((line_end, next)) = find_line(input, pos, limits)? else {
            return need_more(input.len());
        };
        let line = &input[pos..line_end];
        if line.is_empty() {
            break next;
        }
        if matches!(line[0], b' ' | b'\t') {
            // A continuation line (folding): extends the previous header's value.
            let Some(slot) = table.len.checked_sub(1).map(|i| &mut table.slots[i]) else {
                return Err(Error::Syntax {
                    offset: pos,
                    expected: "header name",
                });
            };
            let content = trim_ws_end(line);
            let lead = content
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if lead < content.len() {
                let end = to_u32(pos + content.len());
                if slot.value_len == 0 {
                    slot.value_start = to_u32(pos + lead);
                }
                slot.value_len = end - slot.value_start;
            }
        } else {
            let slot = parse_header_line(line, pos)?;
            let is_length = slot.is(&HeaderName::ContentLength);
            // One line beyond the limit is allowed when it is the first Content-Length: the
            // serializer appends one to a message that had none, and its output must parse.
            let spare_for_length = table.len == max_headers && is_length && length_lines.is_empty();
            if table.len >= max_headers && !spare_for_length {
                return Err(Error::Limit {
                    what: "header count",
                    limit: max_headers,
                    offset: pos,
                });
            }
            if is_length {
                if length_lines.is_empty() {
                    length_lines.start = table.len;
                }
                length_lines.end = table.len + 1;
            }
            table.slots[table.len] = slot;
            table.len += 1;
        }
        pos = next;
    };

    if head_end > limits.max_message_size {
        return Err(Error::Limit {
            what: "message size",
            limit: limits.max_message_size,
            offset: limits.max_message_size,
        });
    }
    let head = match simdutf8::basic::from_utf8(&input[..head_end]) {
        Ok(head) => head,
        // The fast check says only yes or no; the standard one finds the offset.
        Err(_) => {
            let e = std::str::from_utf8(&input[..head_end]).err();
            return Err(Error::Syntax {
                offset: e.map_or(0, |e| e.valid_up_to()),
                expected: "UTF-8 text",
            });
        }
    };

    // Body.
    let content_length = content_length(head, &table.slots[length_lines], mode)?;
    let available = input.len() - head_end;
    let body_len = match (content_length, mode) {
        (_, Mode::HeadOnly) => 0,
        (Some(n), _) if head_end.saturating_add(n) > limits.max_message_size => {
            return Err(Error::Limit {
                what: "message size",
                limit: limits.max_message_size,
                offset: head_end,
            });
        }
        (Some(n), _) if n <= available => n,
        (Some(_), Mode::Stream) => return Ok(None),
        (Some(_), Mode::Datagram) => {
            return Err(Error::Syntax {
                offset: input.len(),
                expected: "as many body bytes as Content-Length says",
            });
        }
        (None, Mode::Stream) => 0,
        (None, Mode::Datagram) if available > limits.max_message_size - head_end => {
            return Err(Error::Limit {
                what: "message size",
                limit: limits.max_message_size,
                offset: limits.max_message_size,
            });
        }
        (None, Mode::Datagram) => available,
    };
    let end = head_end + body_len;
    let layout = msg.layout_mut();
    layout.message_start = to_u32(message_start);
    layout.start = start;
    layout.head_len = to_u32(head_end);
    msg.set_text(head, &input[head_end..end]);
    Ok(Some(end))
}

/// Finds the line starting at `pos`: returns (end of content, start of next line), or
/// `None` if no line end is in the buffer yet.
///
/// A CR is only ever half of a line end (RFC 3261 §7.3.1: even a quoted-pair excludes it); a
/// lone CR inside a line is refused, since a peer we relay to could read it as a line break.
#[inline(always)]
fn find_line(input: &[u8], pos: usize, limits: &Limits) -> Result<Option<(usize, usize)>> {
    let rest = &input[pos..];
    let window = &rest[..rest.len().min(limits.max_line_length.saturating_add(2))];
    let (content_end, next) = match find_cr_or_lf(window) {
        Some(i) if rest[i] == b'\n' => (i, i + 1),
        Some(i) => match rest.get(i + 1) {
            Some(b'\n') => (i, i + 2),
            Some(_) => {
                return Err(Error::Syntax {
                    offset: pos + i,
                    expected: "LF after CR",
                });
            }
            None => return Ok(None),
        },
        None if rest.len() > limits.max_line_length.saturating_add(1) => {
            return Err(Error::Limit {
                what: "line length",
                limit: limits.max_line_length,
                offset: pos + limits.max_line_length,
            });
        }
        None => return Ok(None),
    };
    if content_end > limits.max_line_length {
        return Err(Error::Limit {
            what: "line length",
            limit: limits.max_line_length,
            offset: pos + limits.max_line_length,
        });
    }
    Ok(Some((pos + content_end, pos + next)))
}

/// Index of the first CR or LF. Header lines are short: sixteen bytes per step beat the
/// set-up of a SIMD search for their first 128 bytes; longer lines go to `memchr2`.
#[inline(always)]
fn find_cr_or_lf(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Flags every byte below 0x0E (CR, LF, but also TAB and other controls), never missing
    // one; the flagged bytes are then looked at one by one.
    let low_bytes = |x: u64| x.wrapping_sub(ONES * 0x0E) & !x & HIGHS;
    let first_line_end = |mut low: u64, at: usize| {
        while low != 0 {
            let i = at + (low.trailing_zeros() / 8) as usize;
            if matches!(bytes.get(i), Some(b'\r' | b'\n')) {
                return Some(i);
            }
            low &= low - 1;
        }
        None
    };
    let mut i = 0;
    while i < 128 {
        let Some(chunk) = bytes
            .get(i..i + 16)
            .and_then(|c| <&[u8; 16]>::try_from(c).ok())
        else {
            // Fewer than sixteen bytes left (the end of a datagram).
            let rest = bytes.get(i..)?;
            return rest
                .iter()
                .position(|b| matches!(b, b'\r' | b'\n'))
                .map(|j| i + j);
        };
        let (a, b) = chunk.split_at(8);
        let low_a = low_bytes(u64::from_le_bytes(a.try_into().unwrap_or_default()));
        let low_b = low_bytes(u64::from_le_bytes(b.try_into().unwrap_or_default()));
        if low_a | low_b != 0 {
            if let Some(at) = first_line_end(low_a, i).or_else(|| first_line_end(low_b, i + 8)) {
                return Some(at);
            }
        }
        i += 16;
    }
    memchr2(b'\r', b'\n', bytes.get(i..)?).map(|j| i + j)
}

fn trim_ws_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[inline]
fn parse_header_line(line: &[u8], pos: usize) -> Result<Slot> {
    // Fast path: a standard name right before the colon. Matching a standard name proves it
    // is a token (see `header_name::lookup`: the line holds no CR), so it needs no scan.
    let fast = find_colon(line).and_then(|colon| {
        let kind = lookup(&line[..colon])?;
        Some((colon, kind))
    });
    let (name_len, colon, kind) = match fast {
        Some((colon, kind)) => (colon, colon, kind),
        None => {
            let name_len = line
                .iter()
                .position(|&b| !is_token_char(b))
                .unwrap_or(line.len());
            if name_len == 0 {
                return Err(Error::Syntax {
                    offset: pos,
                    expected: "header name",
                });
            }
            if name_len > usize::from(u16::MAX) {
                return Err(Error::Limit {
                    what: "header name length",
                    limit: usize::from(u16::MAX),
                    offset: pos,
                });
            }
            let mut i = name_len;
            while let Some(b' ' | b'\t') = line.get(i) {
                i += 1;
            }
            if line.get(i) != Some(&b':') {
                return Err(Error::Syntax {
                    offset: pos + i,
                    expected: "':' after header name",
                });
            }
            let kind = lookup(&line[..name_len]).unwrap_or(EXTENSION_INDEX);
            (name_len, i, kind)
        }
    };
    let mut i = colon + 1;
    while let Some(b' ' | b'\t') = line.get(i) {
        i += 1;
    }
    let value_end = trim_ws_end(line).len().max(i);
    Ok(Slot {
        name_start: to_u32(pos),
        value_start: to_u32(pos + i),
        value_len: to_u32(value_end - i),
        // Refused above when longer than u16::MAX; standard names are short.
        name_len: u16::try_from(name_len).unwrap_or(u16::MAX),
        kind,
        spare: 0,
    })
}

/// Index of the first `:` in `line`, eight bytes per step (names are short, values long).
#[inline]
fn find_colon(line: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const COLONS: u64 = 0x3a3a_3a3a_3a3a_3a3a;
    let mut i = 0;
    while let Some(&chunk) = line
        .get(i..i + 8)
        .and_then(|c| <&[u8; 8]>::try_from(c).ok())
    {
        // A zero byte of `x` is a colon; the lowest flagged byte is exact.
        let x = u64::from_le_bytes(chunk) ^ COLONS;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    line[i..].iter().position(|&b| b == b':').map(|j| i + j)
}

/// Reads the framing `Content-Length`. In stream mode, differing values are fatal.
fn content_length(head: &str, slots: &[Slot], mode: Mode) -> Result<Option<usize>> {
    let mut found: Option<usize> = None;
    for slot in slots {
        if !slot.is(&HeaderName::ContentLength) {
            continue;
        }
        let start = slot.value_start as usize;
        let value = head
            .as_bytes()
            .get(start..start + slot.value_len as usize)
            .unwrap_or(&[]);
        let n = parse_length(value).ok_or(Error::Syntax {
            offset: slot.value_start as usize,
            expected: "Content-Length digits",
        })?;
        match found {
            None => found = Some(n),
            Some(first) if first != n && mode == Mode::Stream => {
                return Err(Error::Syntax {
                    offset: slot.value_start as usize,
                    expected: "one Content-Length value",
                });
            }
            Some(_) => {}
        }
    }
    Ok(found)
}

/// Decimal digits only (so `-999` fails), saturating far above any size limit.
fn parse_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() {
        return None;
    }
    let mut n: usize = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.saturating_mul(10).saturating_add(usize::from(b - b'0'));
    }
    Some(n)
}

type NomResult<'a, T> = IResult<&'a [u8], T, nom::error::Error<&'a [u8]>>;

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT`, the letters in any case.
fn sip_version(i: &[u8]) -> NomResult<'_, &[u8]> {
    // Nearly every message says exactly `SIP/2.0`: one comparison instead of four parsers
    // (what the general grammar below would recognize, byte for byte).
    if let Some(rest) = i.strip_prefix(b"SIP/2.0") {
        if !rest.first().is_some_and(u8::is_ascii_digit) {
            return Ok((rest, &i[..7]));
        }
    }
    nom::combinator::recognize((tag_no_case("SIP/"), digit1, char('.'), digit1)).parse(i)
}

fn request_uri(i: &[u8]) -> NomResult<'_, &[u8]> {
    take_while1(|b: u8| b.is_ascii_graphic())(i)
}

/// Three digits; what follows is checked by the caller.
fn status_code(i: &[u8]) -> NomResult<'_, &[u8]> {
    nom::combinator::verify(take(3usize), |code: &[u8]| {
        code.iter().all(u8::is_ascii_digit)
    })
    .parse(i)
}

/// Parses a start line (without its line end) found at byte `base` of the input.
fn parse_start_line(line: &[u8], base: usize) -> Result<StartSpans> {
    let offset_of = |rest: &[u8]| base + line.len() - rest.len();
    let span_of = |part: &[u8]| Span {
        start: (base + (part.as_ptr() as usize - line.as_ptr() as usize)) as u32,
        len: part.len() as u32,
    };
    let fail = |rest: &[u8], expected: &'static str| Error::Syntax {
        offset: offset_of(rest),
        expected,
    };
    fn rest_of(e: nom::Err<nom::error::Error<&[u8]>>) -> &[u8] {
        match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e.input,
            nom::Err::Incomplete(_) => &[],
        }
    }

    if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (rest, version) = sip_version(line).map_err(|e| fail(rest_of(e), "SIP-Version"))?;
        let (rest, _) = char::<_, nom::error::Error<&[u8]>>(' ')
            .parse(rest)
            .map_err(|e| fail(rest_of(e), "SP after SIP-Version"))?;
        let (rest, code) =
            status_code(rest).map_err(|e| fail(rest_of(e), "3-digit Status-Code"))?;
        let code_at = &line[line.len() - rest.len() - code.len()..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            return Err(fail(code_at, "3-digit Status-Code"));
        }
        let status = code.iter().fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
        if !(100..=699).contains(&status) {
            return Err(fail(code_at, "Status-Code 100 to 699"));
        }
        // The reason phrase may be empty; tolerate a missing SP before an empty one.
        let reason = match rest {
            [] => rest,
            [b' ', reason @ ..] => reason,
            _ => return Err(fail(rest, "SP after Status-Code")),
        };
        if reason.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
            return Err(fail(reason, "Reason-Phrase text"));
        }
        Ok(StartSpans::Response {
            version: span_of(version),
            status,
            reason: span_of(reason),
        })
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version CRLF
        let (rest, method) = take_while1::<_, _, nom::error::Error<&[u8]>>(is_token_char)(line)
            .map_err(|e| fail(rest_of(e), "Method token"))?;
        let (rest, _) = char::<_, nom::error::Error<&[u8]>>(' ')
            .parse(rest)
            .map_err(|e| fail(rest_of(e), "SP after Method"))?;
        let (rest, uri) = request_uri(rest).map_err(|e| fail(rest_of(e), "Request-URI"))?;
        let (rest, _) = char::<_, nom::error::Error<&[u8]>>(' ')
            .parse(rest)
            .map_err(|e| fail(rest_of(e), "SP after Request-URI"))?;
        let (rest, version) = sip_version(rest).map_err(|e| fail(rest_of(e), "SIP-Version"))?;
        if !rest.is_empty() {
            return Err(fail(rest, "CRLF after SIP-Version"));
        }
        Ok(StartSpans::Request {
            method: span_of(method),
            uri: span_of(uri),
            version: span_of(version),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderName;

    fn syntax_at(input: &[u8]) -> (usize, &'static str) {
        match parse_datagram(input) {
            Err(Error::Syntax { offset, expected }) => (offset, expected),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_offset_and_what_was_expected() {
        assert_eq!(
            syntax_at(b"INVITE  sip:a@b SIP/2.0\r\n\r\n"),
            (7, "Request-URI")
        );
        assert_eq!(
            syntax_at(b"INVITE sip:a@b SIP/2.0 \r\n\r\n"),
            (22, "CRLF after SIP-Version")
        );
        assert_eq!(
            syntax_at(b"INVITE sip:a@b HTTP/1.1\r\n\r\n"),
            (15, "SIP-Version")
        );
        assert_eq!(
            syntax_at(b"SIP/2.0 20 OK\r\n\r\n"),
            (8, "3-digit Status-Code")
        );
        assert_eq!(
            syntax_at(b"SIP/2.0 099 Odd\r\n\r\n"),
            (8, "Status-Code 100 to 699")
        );
        assert_eq!(
            syntax_at(b"SIP/2.0 4294967301 Big\r\n\r\n"),
            (8, "3-digit Status-Code")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\nBad Header\r\n\r\n"),
            (29, "':' after header name")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\n: v\r\n\r\n"),
            (25, "header name")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n"),
            (25, "header name")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\nl: -1\r\n\r\n"),
            (28, "Content-Length digits")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n"),
            (28, "UTF-8 text")
        );
        assert_eq!(
            syntax_at(b"OPTIONS sip:a@b SIP/2.0\r\nX: y\r\n"),
            (31, "CRLF")
        );
    }

    #[test]
    fn line_ends_found_at_every_position() {
        // Across the sixteen-byte steps, after tabs (flagged but not line ends), past the
        // stepped window and in a short tail.
        for len in 0..300 {
            for end in [&b"\r\n"[..], b"\n", b"\r"] {
                let mut line = vec![b'a'; len];
                if len > 3 {
                    line[len / 2] = b'\t';
                }
                line.extend_from_slice(end);
                line.extend_from_slice(b"tail");
                assert_eq!(find_cr_or_lf(&line), Some(len), "{len}");
            }
            assert_eq!(find_cr_or_lf(&vec![b'a'; len]), None, "{len}");
        }
    }

    #[test]
    fn limits_are_typed_errors() {
        let tight = Limits {
            max_message_size: 60,
            max_headers: 2,
            max_line_length: 30,
        };
        let long_line = b"OPTIONS sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b SIP/2.0\r\n\r\n";
        assert!(matches!(
            parse_datagram_with(long_line, &tight),
            Err(Error::Limit {
                what: "line length",
                ..
            })
        ));
        let many = b"OPTIONS sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(matches!(
            parse_datagram_with(many, &tight),
            Err(Error::Limit {
                what: "header count",
                limit: 2,
                offset: 37
            })
        ));
        let big_body = b"OPTIONS sip:a@b SIP/2.0\r\nl: 100\r\n\r\n";
        assert!(matches!(
            parse_stream_with(big_body, &tight),
            Err(Error::Limit {
                what: "message size",
                ..
            })
        ));
    }

    #[test]
    fn lenient_where_the_rfc_allows() {
        // Leading CRLFs are skipped (RFC 3261 §7.5); bare LF line ends are tolerated.
        let msg = parse_datagram(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\nv: SIP/2.0/UDP h\n\n")
            .unwrap()
            .message;
        assert_eq!(msg.header(HeaderName::Via), Some("SIP/2.0/UDP h"));
        assert_eq!(
            msg.offset_of(msg.header(HeaderName::Via).unwrap()),
            Some(31)
        );
        // An empty reason phrase, with or without its space.
        for line in [&b"SIP/2.0 100 \r\n\r\n"[..], b"SIP/2.0 100\r\n\r\n"] {
            let msg = parse_datagram(line).unwrap().message;
            assert_eq!((msg.status(), msg.reason()), (Some(100), Some("")));
        }
        // Folded values keep their folds; the value may start on the continuation line.
        let folded = b"OPTIONS sip:a@b SIP/2.0\r\nSubject:\r\n  first\r\n\tsecond  \r\n\r\n";
        let msg = parse_datagram(folded).unwrap().message;
        assert_eq!(msg.header(HeaderName::Subject), Some("first\r\n\tsecond"));
    }

    #[test]
    fn big_partial_stream_headers_wait_without_a_full_parse() {
        let mut buf = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        while buf.len() < 3 * STREAM_PRECHECK_BYTES {
            buf.extend_from_slice(b"X-Filler: 0123456789abcdef\r\n");
        }
        assert!(matches!(parse_stream(&buf), Ok(Parsed::Partial)));
        buf.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert!(matches!(
            parse_stream(&buf),
            Err(Error::Limit {
                what: "header count",
                ..
            })
        ));
        // Over the size limit it is an error even before the header section ends.
        let huge = vec![b'a'; 70_000];
        assert!(matches!(parse_stream(&huge), Err(Error::Limit { .. })));
    }

    #[test]
    fn stream_and_datagram_differ_only_where_they_must() {
        let no_length = b"OPTIONS sip:a@b SIP/2.0\r\n\r\nextra";
        match parse_stream(no_length).unwrap() {
            Parsed::Complete { message, consumed } => {
                assert_eq!(consumed, 27);
                assert!(message.body().is_empty());
            }
            Parsed::Partial => panic!("partial"),
        }
        let d = parse_datagram(no_length).unwrap();
        assert_eq!(d.message.body(), b"extra");
        assert!(d.trailing.is_empty());
        assert!(matches!(
            MessageRef::parse(b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\n\r\nab"),
            Err(Error::TrailingBytes { offset: 34, len: 1 })
        ));
    }
}
