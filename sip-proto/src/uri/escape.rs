//! `%HH` escapes of URIs (RFC 3261 §25.1 `escaped`): validation, lazy unescaping and
//! escape-insensitive comparison without allocating.

use std::borrow::Cow;

use crate::error::Result;
use crate::grammar::{class, in_class, syntax};

/// `unreserved = alphanum / mark`, `mark = - _ . ! ~ * ' ( )`.
pub fn is_unreserved(b: u8) -> bool {
    in_class(b, class::UNRESERVED)
}

/// Characters allowed unescaped in the user part: unreserved and `& = + $ , ; ? /`.
pub fn is_user_char(b: u8) -> bool {
    in_class(b, class::USER)
}

/// Characters allowed unescaped in a password: unreserved and `& = + $ ,`.
pub fn is_password_char(b: u8) -> bool {
    in_class(b, class::PASSWORD)
}

/// `paramchar` minus the escapes: unreserved and `[ ] / : & + $`.
pub fn is_param_char(b: u8) -> bool {
    in_class(b, class::PARAM)
}

/// Header name/value characters: unreserved and `[ ] / ? : + $`.
pub fn is_header_char(b: u8) -> bool {
    in_class(b, class::HEADER)
}

/// Checks that `s` consists of `allowed` bytes and well-formed `%HH` escapes. `base` is the
/// offset of `s` in the text being parsed, so errors point into the caller's input.
pub fn check(
    s: &str,
    allowed: impl Fn(u8) -> bool,
    base: usize,
    expected: &'static str,
) -> Result<()> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err(syntax(base + i, "two hex digits after %"));
            }
            i += 3;
        } else if allowed(b) {
            i += 1;
        } else {
            return Err(syntax(base + i, expected));
        }
    }
    Ok(())
}

/// Length of the leading run of `allowed` bytes and `%HH` escapes in `s`.
pub fn span(s: &str, allowed: impl Fn(u8) -> bool) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                i += 3;
            } else {
                break;
            }
        } else if allowed(bytes[i]) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// [`span`] for a single-bit character class of [`crate::grammar::class`], at `start` of
/// `bytes`: runs of plain characters are skipped four bytes per step.
#[inline]
pub(crate) fn span_class(bytes: &[u8], start: usize, class: u8) -> usize {
    let mut i = start;
    loop {
        i = crate::grammar::span_class(bytes, i, class);
        match bytes.get(i..i + 3) {
            Some(&[b'%', h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
            _ => return i - start,
        }
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// The bytes of `s` with `%HH` escapes decoded, one at a time.
#[derive(Debug, Clone)]
pub struct Unescaped<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for Unescaped<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if b == b'%' && self.pos + 2 < self.bytes.len() {
            let (h, l) = (self.bytes[self.pos + 1], self.bytes[self.pos + 2]);
            if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() {
                self.pos += 3;
                return Some(hex(h) << 4 | hex(l));
            }
        }
        self.pos += 1;
        Some(b)
    }
}

/// Iterates over the unescaped bytes of `s`.
pub fn unescaped(s: &str) -> Unescaped<'_> {
    Unescaped {
        bytes: s.as_bytes(),
        pos: 0,
    }
}

/// `s` with `%HH` escapes decoded; borrowed when there is none. Escapes that do not form UTF-8
/// are replaced by U+FFFD.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes: Vec<u8> = unescaped(s).collect();
    match String::from_utf8(bytes) {
        Ok(text) => Cow::Owned(text),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// RFC 2396 `reserved` characters: an escape of one of these is NOT the same as the
/// character itself (RFC 3261 §19.1.4), since the literal one may delimit components.
const fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
    )
}

/// Comparison units of an escaped string: each character as itself, except that an escaped
/// reserved character is kept apart (marked with bit 8) from its literal form.
fn units(s: &str, fold_case: bool) -> impl Iterator<Item = u16> + '_ {
    let bytes = s.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        let b = *bytes.get(pos)?;
        if b == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(pos + 1), bytes.get(pos + 2)) {
                if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() {
                    pos += 3;
                    let c = (hex(*h) << 4) | hex(*l);
                    let c = if fold_case { c.to_ascii_lowercase() } else { c };
                    return Some(if is_reserved(c) {
                        0x100 | u16::from(c)
                    } else {
                        u16::from(c)
                    });
                }
            }
        }
        pos += 1;
        Some(u16::from(if fold_case {
            b.to_ascii_lowercase()
        } else {
            b
        }))
    })
}

/// Compares two escaped strings exactly, an escape being equal to the character it encodes
/// unless that character is reserved (RFC 3261 §19.1.4).
pub fn eq_unescaped(a: &str, b: &str) -> bool {
    units(a, false).eq(units(b, false))
}

/// Like [`eq_unescaped`], ASCII case-insensitively.
pub fn eq_unescaped_ignore_case(a: &str, b: &str) -> bool {
    units(a, true).eq(units(b, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_borrows_when_clean() {
        assert!(matches!(unescape("alice"), Cow::Borrowed("alice")));
        assert_eq!(unescape("%61lice%20x"), "alice x");
        assert_eq!(unescape("null-%00-null"), "null-\0-null");
        assert_eq!(unescape("a%"), "a%");
    }

    #[test]
    fn compare_escaped() {
        assert!(eq_unescaped("%61lice", "alice"));
        assert!(!eq_unescaped("%41lice", "alice"));
        assert!(eq_unescaped_ignore_case("%41lice", "alice"));
        // An escaped reserved character is not the character itself.
        assert!(!eq_unescaped("user%3Bpar", "user;par"));
        assert!(eq_unescaped("user%3bpar", "user%3Bpar"));
        assert!(eq_unescaped("a%2d", "a-"));
    }

    #[test]
    fn check_reports_offset() {
        assert!(check("a%2Fb", is_user_char, 0, "user").is_ok());
        assert_eq!(
            check("ab%zz", is_user_char, 10, "user"),
            Err(crate::Error::Syntax {
                offset: 12,
                expected: "two hex digits after %"
            })
        );
        assert_eq!(
            check("a b", is_user_char, 0, "user"),
            Err(crate::Error::Syntax {
                offset: 1,
                expected: "user"
            })
        );
    }
}
