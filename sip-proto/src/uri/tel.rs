//! `tel:` URIs (RFC 3966).

use std::fmt;

use super::escape::eq_unescaped_ignore_case;
use super::sip::scan_uri_params;
use crate::error::Result;
use crate::grammar::{Params, Scanner, syntax};

/// A `tel:` URI: a global (`+…`) or local number with parameters such as `phone-context`,
/// `ext` and `isub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The number as written, visual separators (`-` `.` `(` `)`) included.
    pub number: &'a str,
    /// Parameters (`;phone-context=example.com;ext=22`).
    pub params: Params<'a>,
}

const fn is_visual_separator(b: u8) -> bool {
    matches!(b, b'-' | b'.' | b'(' | b')')
}

impl<'a> TelUri<'a> {
    /// Parses a complete `tel:` URI.
    pub fn parse(s: &'a str) -> Result<Self> {
        match s.find(':') {
            Some(c) if s[..c].eq_ignore_ascii_case("tel") => Self::parse_after_scheme(s, c + 1),
            _ => Err(syntax(0, "tel: scheme")),
        }
    }

    pub(crate) fn parse_after_scheme(s: &'a str, start: usize) -> Result<Self> {
        let mut sc = Scanner::new(s);
        sc.advance(start);
        let global = sc.eat(b'+');
        let digits_start = sc.pos();
        let body = if global {
            sc.take_while(|b| b.is_ascii_digit() || is_visual_separator(b))
        } else {
            sc.take_while(|b| {
                b.is_ascii_hexdigit() || matches!(b, b'*' | b'#') || is_visual_separator(b)
            })
        };
        if !body.bytes().any(|b| !is_visual_separator(b)) {
            return Err(syntax(digits_start, "telephone number digits"));
        }
        let number = &s[start..sc.pos()];
        let params = scan_uri_params(&mut sc)?;
        if !sc.is_empty() {
            return Err(sc.error("end of tel URI"));
        }
        let uri = TelUri { number, params };
        if !global && !params.has("phone-context") {
            return Err(syntax(
                s.len(),
                "phone-context parameter for a local number",
            ));
        }
        Ok(uri)
    }

    /// Whether the number is global (starts with `+`).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The number's digits (and `*`, `#`, `+`) without visual separators.
    pub fn digits(&self) -> impl Iterator<Item = char> + 'a {
        self.number
            .chars()
            .filter(|c| !(c.is_ascii() && is_visual_separator(*c as u8)))
    }

    /// The `phone-context` parameter.
    pub fn phone_context(&self) -> Option<&'a str> {
        self.params.value("phone-context")
    }

    /// The `ext` (extension) parameter.
    pub fn extension(&self) -> Option<&'a str> {
        self.params.value("ext")
    }

    /// Equality per RFC 3966 §4: numbers without visual separators, the same set of
    /// parameters (any order), all case-insensitive; `phone-context` and `ext` values compared
    /// without visual separators.
    pub fn rfc_eq(&self, other: &TelUri<'_>) -> bool {
        fn same_digits<'a>(a: &'a str, b: &'a str) -> bool {
            let strip = |s: &'a str| {
                s.bytes()
                    .filter(|b| !is_visual_separator(*b))
                    .map(|b| b.to_ascii_lowercase())
            };
            strip(a).eq(strip(b))
        }
        if !same_digits(self.number, other.number)
            || self.params.iter().count() != other.params.iter().count()
        {
            return false;
        }
        self.params.iter().all(|p| {
            let Some(q) = other.params.get(p.name) else {
                return false;
            };
            match (p.value, q.value) {
                (None, None) => true,
                (Some(a), Some(b))
                    if p.name.eq_ignore_ascii_case("phone-context")
                        || p.name.eq_ignore_ascii_case("ext") =>
                {
                    if a.starts_with('+')
                        || a.bytes()
                            .all(|c| c.is_ascii_digit() || is_visual_separator(c))
                    {
                        same_digits(a, b)
                    } else {
                        eq_unescaped_ignore_case(a, b)
                    }
                }
                (Some(a), Some(b)) => eq_unescaped_ignore_case(a, b),
                _ => false,
            }
        })
    }
}

impl fmt::Display for TelUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}{}", self.number, self.params.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_and_local() {
        let t = TelUri::parse("tel:+1-201-555-0123;ext=22").unwrap();
        assert!(t.is_global());
        assert_eq!(t.digits().collect::<String>(), "+12015550123");
        assert_eq!(t.extension(), Some("22"));
        let l = TelUri::parse("tel:7042;phone-context=example.com").unwrap();
        assert!(!l.is_global());
        assert_eq!(l.phone_context(), Some("example.com"));
        assert_eq!(l.to_string(), "tel:7042;phone-context=example.com");
    }

    #[test]
    fn refused() {
        assert!(
            TelUri::parse("tel:7042").is_err(),
            "local number without phone-context"
        );
        assert!(TelUri::parse("tel:+").is_err());
        assert!(TelUri::parse("tel:+1 555").is_err());
        assert!(TelUri::parse("tel:+1x").is_err());
    }

    #[test]
    fn equality() {
        let a = TelUri::parse("tel:+1-201-555-0123").unwrap();
        let b = TelUri::parse("tel:+1(201)5550123").unwrap();
        assert!(a.rfc_eq(&b));
        let c = TelUri::parse("tel:+12015550123;ext=1").unwrap();
        assert!(!a.rfc_eq(&c));
        let d = TelUri::parse("tel:863-1234;phone-context=+1-914-555").unwrap();
        let e = TelUri::parse("tel:8631234;PHONE-CONTEXT=+1914555").unwrap();
        assert!(d.rfc_eq(&e));
    }
}
