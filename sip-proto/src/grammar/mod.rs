//! Low-level pieces of the RFC 3261 §25 grammar shared by every parser in this crate.
//!
//! Everything here works on one header value (or one URI) held as `&str` and never allocates:
//! tokens and quoted strings come back as slices of the input, parameters as a [`Params`] view
//! over the raw `;a=b;c` text that is only scanned when asked. Unescaping happens lazily, into a
//! [`Cow`] that borrows whenever there is nothing to unescape.
//!
//! ```
//! use sip_proto::grammar::{split_list, Scanner};
//!
//! let items: Vec<_> = split_list("\"a, b\" <sip:x@y>, <sip:z@w;p=1,2>").map(|(s, _)| s).collect();
//! assert_eq!(items, ["\"a, b\" <sip:x@y>", "<sip:z@w;p=1,2>"]);
//!
//! let mut s = Scanner::new("foo ;tag=1;lr");
//! assert_eq!(s.token("token").unwrap(), "foo");
//! let params = s.header_params().unwrap();
//! assert_eq!(params.value("tag"), Some("1"));
//! assert!(params.has("LR"));
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, Result};

mod list;
mod params;

pub use list::{SplitList, split_list};
pub use params::{Param, ParamIter, Params};

/// Character class bits of [`CHAR_CLASS`].
pub(crate) mod class {
    /// `token` (RFC 3261 §25.1).
    pub const TOKEN: u8 = 1;
    /// `word` (Call-ID).
    pub const WORD: u8 = 2;
    /// `unreserved = alphanum / mark`.
    pub const UNRESERVED: u8 = 4;
    /// Unescaped in a URI user part.
    pub const USER: u8 = 8;
    /// Unescaped in a URI password.
    pub const PASSWORD: u8 = 16;
    /// `paramchar` without escapes.
    pub const PARAM: u8 = 32;
    /// URI header name/value characters without escapes.
    pub const HEADER: u8 = 64;
    /// Host name characters (alphanum, `-`, `.`, and `_` tolerated).
    pub const HOST: u8 = 128;
}

const fn char_class(b: u8) -> u8 {
    let alnum = b.is_ascii_alphanumeric();
    let mark = matches!(
        b,
        b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
    );
    let token = alnum
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        );
    let word = token
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        );
    let unreserved = alnum || mark;
    let user = unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/');
    let password = unreserved || matches!(b, b'&' | b'=' | b'+' | b'$' | b',');
    let param = unreserved || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$');
    let header = unreserved || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$');
    let host = alnum || matches!(b, b'-' | b'.' | b'_');
    (token as u8 * class::TOKEN)
        | (word as u8 * class::WORD)
        | (unreserved as u8 * class::UNRESERVED)
        | (user as u8 * class::USER)
        | (password as u8 * class::PASSWORD)
        | (param as u8 * class::PARAM)
        | (header as u8 * class::HEADER)
        | (host as u8 * class::HOST)
}

/// One byte of class bits per byte value: a table lookup is the fastest way to test a byte.
pub(crate) static CHAR_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = char_class(i as u8);
        i += 1;
    }
    table
};

/// Whether `b` belongs to any of the `class` bits.
#[inline(always)]
pub(crate) fn in_class(b: u8, class: u8) -> bool {
    CHAR_CLASS[usize::from(b)] & class != 0
}

/// Index of the first byte at or after `i` that is not in the single-bit class `class` (the
/// end of `bytes` when there is none).
///
/// Four bytes per step: tokens, hosts and URI parts are mostly longer than that, and one
/// branch per four table lookups halves the work of a byte-at-a-time loop.
#[inline(always)]
pub(crate) fn span_class(bytes: &[u8], mut i: usize, class: u8) -> usize {
    while let Some(&[a, b, c, d]) = bytes
        .get(i..i + 4)
        .and_then(|w| <&[u8; 4]>::try_from(w).ok())
    {
        // A class is one bit, so the AND of the four entries keeps it only if all have it.
        let all = CHAR_CLASS[usize::from(a)]
            & CHAR_CLASS[usize::from(b)]
            & CHAR_CLASS[usize::from(c)]
            & CHAR_CLASS[usize::from(d)];
        if all & class == 0 {
            break;
        }
        i += 4;
    }
    while let Some(&b) = bytes.get(i) {
        if !in_class(b, class) {
            break;
        }
        i += 1;
    }
    i
}

/// `token` characters: alphanum and `-.!%*_+`'~` (RFC 3261 §25.1).
#[inline]
pub fn is_token_char(b: u8) -> bool {
    in_class(b, class::TOKEN)
}

/// `word` characters: token characters plus `()<>:\"/[]?{}` (used by Call-ID).
#[inline]
pub fn is_word_char(b: u8) -> bool {
    in_class(b, class::WORD)
}

/// Whether `s` is a non-empty `token`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// ASCII case-insensitive comparison, the rule for SIP names, schemes, hosts and most values.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether `name` equals `lower`, a lower-case name made of ASCII letters only, ignoring
/// case. Setting bit 5 maps exactly the two cases of a letter onto its lower case, so for
/// such a `lower` this one OR per byte is a complete case-insensitive comparison.
#[inline(always)]
pub(crate) fn is_letters_ignore_case(name: &str, lower: &str) -> bool {
    name.len() == lower.len() && name.bytes().zip(lower.bytes()).all(|(a, b)| a | 0x20 == b)
}

/// Length of the linear white space (`LWS`, including a folded `CRLF` followed by SP/HTAB)
/// at the start of `bytes`. A `CRLF` that is not followed by SP/HTAB is not white space.
pub fn lws_len(bytes: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match bytes.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => {
                if matches!(bytes.get(i + 2), Some(b' ' | b'\t')) {
                    i += 3;
                } else {
                    return i;
                }
            }
            _ => return i,
        }
    }
}

/// [`lws_len`] at index `i` of `bytes`, with the common no-white-space case decided by one
/// comparison.
#[inline(always)]
fn lws_at(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i) {
        Some(b' ' | b'\t' | b'\r') => lws_len(&bytes[i..]),
        _ => 0,
    }
}

/// Removes leading and trailing `LWS` (SP, HTAB and folded line breaks).
pub fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    // Both cuts are next to ASCII bytes, hence on char boundaries.
    &s[start..end]
}

/// Index just past the closing quote of a quoted string whose content starts at `i`
/// (the end of `bytes` when it is not closed).
pub(crate) fn skip_quoted(bytes: &[u8], mut i: usize) -> usize {
    while let Some(j) = memchr::memchr2(b'"', b'\\', bytes.get(i..).unwrap_or(&[])) {
        if bytes[i + j] == b'"' {
            return i + j + 1;
        }
        i += j + 2;
    }
    bytes.len()
}

/// Undoes the `\` escapes (quoted-pair) of a quoted string's inner text.
///
/// Borrows when there is no backslash, so the common case does not allocate.
pub fn unquote(inner: &str) -> Cow<'_, str> {
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes `text` as a quoted string, escaping `"` and `\`.
pub fn write_quoted(f: &mut impl fmt::Write, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        // qdtext excludes `"`, `\`, NUL and the other controls: those travel as quoted-pairs
        // (a nonce like `ab\<NUL>c` must be written back exactly as the server sent it).
        let needs_escape =
            matches!(c, '"' | '\\' | '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\x7f');
        if needs_escape {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Bytes a quoted string cannot simply pass over: the closing quote, an escape, a line
/// break (only allowed as folding) and NUL.
static QUOTED_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[0] = true;
    t
};

/// Offset of `part` (a slice of `whole`) from the start of `whole`, for error positions.
pub(crate) fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

/// Builds the crate's syntax error.
pub(crate) fn syntax(offset: usize, expected: &'static str) -> Error {
    Error::Syntax { offset, expected }
}

/// A cursor over one value that remembers its position, so every error names its offset
/// relative to the start of the value.
#[derive(Debug, Clone)]
pub struct Scanner<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// Starts at the beginning of `src`.
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    /// Current offset from the start of the value.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The whole input.
    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The input not consumed yet.
    #[inline]
    pub fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// Moves forward by `n` bytes (clamped to the end of the input).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.src.len());
    }

    /// Whether the whole input has been consumed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// The next byte, if any.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// A syntax error at the current offset.
    pub fn error(&self, expected: &'static str) -> Error {
        syntax(self.pos, expected)
    }

    /// Skips `LWS`; returns whether anything was skipped.
    #[inline]
    pub fn skip_lws(&mut self) -> bool {
        // Fast path: most separators have no white space around them.
        if !matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            return false;
        }
        let n = lws_len(&self.src.as_bytes()[self.pos..]);
        self.pos += n;
        n > 0
    }

    /// Consumes `b` if it is next.
    #[inline]
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `b` or fails with `expected`.
    #[inline]
    pub fn expect(&mut self, b: u8, expected: &'static str) -> Result<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// Consumes a separator surrounded by optional white space (`SWS b SWS`), e.g. `SEMI`,
    /// `SLASH`, `EQUAL`, `COMMA`.
    #[inline]
    pub fn separator(&mut self, b: u8, expected: &'static str) -> Result<()> {
        let save = self.pos;
        self.skip_lws();
        if self.eat(b) {
            self.skip_lws();
            Ok(())
        } else {
            self.pos = save;
            Err(self.error(expected))
        }
    }

    /// Consumes `SWS b SWS` if `b` comes next after optional white space.
    #[inline]
    pub fn eat_separator(&mut self, b: u8) -> bool {
        self.separator(b, "").is_ok()
    }

    /// Consumes the longest run of bytes matching `pred` (possibly empty).
    #[inline]
    pub fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut end = start;
        while end < bytes.len() && pred(bytes[end]) {
            end += 1;
        }
        self.pos = end;
        // Only ASCII predicates are used, so `end` is always a char boundary; fall back safely.
        self.src.get(start..end).unwrap_or("")
    }

    /// Consumes a non-empty run of bytes matching `pred`, or fails with `expected`.
    pub fn take_while1(
        &mut self,
        pred: impl Fn(u8) -> bool,
        expected: &'static str,
    ) -> Result<&'a str> {
        let s = self.take_while(pred);
        if s.is_empty() {
            Err(self.error(expected))
        } else {
            Ok(s)
        }
    }

    /// Consumes a `token`.
    #[inline]
    pub fn token(&mut self, expected: &'static str) -> Result<&'a str> {
        let start = self.pos;
        let end = span_class(self.src.as_bytes(), start, class::TOKEN);
        if end == start {
            return Err(self.error(expected));
        }
        self.pos = end;
        // Token characters are ASCII, so `end` is a char boundary.
        Ok(self.src.get(start..end).unwrap_or(""))
    }

    /// Consumes a quoted string (`"..."` with `\` escapes) and returns its inner raw text
    /// (escapes kept; see [`unquote`]).
    pub fn quoted_string(&mut self) -> Result<&'a str> {
        self.expect(b'"', "quoted-string")?;
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        while i < bytes.len() {
            // Skip ordinary text quickly; stop at the few bytes that need a decision.
            while i < bytes.len() && !QUOTED_SPECIAL[usize::from(bytes[i])] {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else { break };
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(&self.src[start..i]);
                }
                b'\\' => {
                    // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                    match bytes.get(i + 1) {
                        Some(b'\r' | b'\n') | None => {
                            return Err(syntax(i + 1, "escaped character"));
                        }
                        Some(b) if *b >= 0x80 => {
                            return Err(syntax(i + 1, "escaped ASCII character"));
                        }
                        Some(_) => i += 2,
                    }
                }
                b'\r' => {
                    let n = lws_len(&bytes[i..]);
                    if n == 0 {
                        return Err(syntax(i, "closing quote"));
                    }
                    i += n;
                }
                _ => return Err(syntax(i, "closing quote")),
            }
        }
        Err(syntax(bytes.len(), "closing quote"))
    }

    /// Consumes a decimal number (`1*DIGIT`) that must fit in a `u32`.
    pub fn number_u32(&mut self, expected: &'static str) -> Result<u32> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start;
        let mut value = 0u64;
        while let Some(&b) = bytes.get(i) {
            if !b.is_ascii_digit() {
                break;
            }
            // Capped far above u32::MAX, so any run of digits neither overflows nor fits.
            value = (value * 10 + u64::from(b - b'0')).min(1 << 40);
            i += 1;
        }
        if i == start {
            return Err(self.error(expected));
        }
        self.pos = i;
        u32::try_from(value).map_err(|_| syntax(start, "number below 2^32"))
    }

    /// Skips trailing white space and requires the end of the input.
    #[inline]
    pub fn end(&mut self, expected: &'static str) -> Result<()> {
        self.skip_lws();
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// Consumes `*( SEMI generic-param )` of a header value, where `generic-param = token
    /// [ EQUAL gen-value ]` and `gen-value = token / host / quoted-string`.
    pub fn header_params(&mut self) -> Result<Params<'a>> {
        self.header_params_visit(|_| Ok(()))
    }

    /// Like [`Scanner::header_params`], calling `visit` with each parameter as it is
    /// validated, so a typed value can check and capture the parameters it knows in the same
    /// pass (no second scan on access).
    pub fn header_params_visit(
        &mut self,
        mut visit: impl FnMut(Param<'a>) -> Result<()>,
    ) -> Result<Params<'a>> {
        // Byte indices rather than scanner steps: this loop runs for every parameter of
        // every Via, From, To and Contact. Every delimiter is ASCII, so each cut lands on a
        // char boundary.
        let src = self.src;
        let bytes = src.as_bytes();
        let start = self.pos;
        let mut end = start;
        loop {
            // SEMI = SWS ";" SWS
            let mut i = end + lws_at(bytes, end);
            if bytes.get(i) != Some(&b';') {
                break;
            }
            i += 1;
            i += lws_at(bytes, i);
            let name_start = i;
            i = span_class(bytes, i, class::TOKEN);
            if i == name_start {
                self.pos = name_start;
                return Err(self.error("parameter name"));
            }
            let name = &src[name_start..i];
            // EQUAL = SWS "=" SWS; nearly always without the white space.
            let eq = i + lws_at(bytes, i);
            let value = if bytes.get(eq) == Some(&b'=') {
                let value_start = eq + 1 + lws_at(bytes, eq + 1);
                let token_end = span_class(bytes, value_start, class::TOKEN);
                let plain = token_end > value_start && bytes.get(token_end) != Some(&b':');
                if plain {
                    i = token_end;
                    Some(&src[value_start..token_end])
                } else {
                    // Quoted string, IPv6 reference or an error: the general path.
                    self.pos = value_start;
                    let value = self.gen_value()?;
                    i = self.pos;
                    Some(value)
                }
            } else {
                None
            };
            visit(Param { name, value })?;
            end = i;
        }
        self.pos = end;
        Ok(Params::new(&src[start..end]))
    }

    /// Offset of `part`, a slice of this scanner's input, from the input's start.
    pub fn offset_of(&self, part: &str) -> usize {
        offset_in(self.src, part)
    }

    /// Consumes a `gen-value`: token, host (including an IPv6 reference) or quoted string.
    pub fn gen_value(&mut self) -> Result<&'a str> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {
                self.quoted_string()?;
            }
            Some(b'[') => {
                self.take_while(|b| {
                    b != b']' && (b.is_ascii_hexdigit() || b == b':' || b == b'.' || b == b'[')
                });
                self.expect(b']', "closing ] of IPv6 reference")?;
            }
            Some(b':') => {
                // An unbracketed IPv6 address starting with "::" (Via `received`).
                self.ipv6_value(start)?;
            }
            _ => {
                self.token("parameter value")?;
                if self.peek() == Some(b':') {
                    // Via `received` holds a bare IPv6address (RFC 3261 §20.42); accept a
                    // colon only when the whole value is one.
                    self.ipv6_value(start)?;
                }
            }
        }
        Ok(&self.src[start..self.pos])
    }

    fn ipv6_value(&mut self, start: usize) -> Result<()> {
        let save = self.pos;
        self.pos = start;
        let text = self.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if text.parse::<std::net::Ipv6Addr>().is_err() {
            self.pos = save;
            return Err(self.error("parameter value (token, host or quoted-string)"));
        }
        Ok(())
    }
}

/// Parses a run of ASCII digits into a `u32`, `None` on overflow or non-digits.
pub fn parse_u32(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let v = significant
        .bytes()
        .fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
    u32::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lws_includes_folding_but_not_bare_crlf() {
        assert_eq!(lws_len(b" \t\r\n  x"), 6);
        assert_eq!(lws_len(b"\r\nx"), 0);
        assert_eq!(lws_len(b"x"), 0);
    }

    #[test]
    fn quoted_string_with_escapes() {
        let mut s = Scanner::new(r#""a \"b\" \\ c" rest"#);
        let inner = s.quoted_string().unwrap();
        assert_eq!(inner, r#"a \"b\" \\ c"#);
        assert_eq!(unquote(inner), r#"a "b" \ c"#);
        assert_eq!(s.rest(), " rest");
    }

    #[test]
    fn unterminated_quote_names_offset() {
        let mut s = Scanner::new("\"abc");
        assert_eq!(
            s.quoted_string(),
            Err(Error::Syntax {
                offset: 4,
                expected: "closing quote"
            })
        );
    }

    #[test]
    fn header_params_with_lws_and_quotes() {
        let mut s = Scanner::new(" ; tag = abc ;lr; x=\"a;b\" ;maddr=[::1]");
        let p = s.header_params().unwrap();
        assert!(s.is_empty());
        let all: Vec<_> = p.iter().collect();
        assert_eq!(all.len(), 4);
        assert_eq!(p.value("TAG"), Some("abc"));
        assert_eq!(
            p.get("lr"),
            Some(Param {
                name: "lr",
                value: None
            })
        );
        assert_eq!(p.value("x"), Some("a;b"));
        assert_eq!(p.value("maddr"), Some("[::1]"));
    }

    #[test]
    fn header_params_error_offset() {
        let mut s = Scanner::new(";tag=");
        assert_eq!(
            s.header_params(),
            Err(Error::Syntax {
                offset: 5,
                expected: "parameter value"
            })
        );
    }

    #[test]
    fn letter_names_compare_ignoring_case_only() {
        assert!(is_letters_ignore_case("TaG", "tag"));
        assert!(is_letters_ignore_case("branch", "branch"));
        assert!(!is_letters_ignore_case("tags", "tag"));
        assert!(!is_letters_ignore_case("ta", "tag"));
        // Bytes that bit 5 maps onto a letter only from its other case.
        for b in 0u8..=255 {
            let expected = b.eq_ignore_ascii_case(&b'g');
            let name = [b't', b'a', b];
            if let Ok(name) = std::str::from_utf8(&name) {
                assert_eq!(is_letters_ignore_case(name, "tag"), expected, "{b}");
            }
        }
    }

    #[test]
    fn numbers_overflow() {
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("000000000001"), Some(1));
        assert_eq!(parse_u32("36893488147419103232"), None);
        assert_eq!(parse_u32(""), None);
    }
}
