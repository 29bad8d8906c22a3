//! `name-addr` / `addr-spec` values: From, To, Route, Record-Route, Reply-To, Refer-To and the
//! address part of Contact (RFC 3261 §20.10, §25.1).

use std::borrow::Cow;
use std::fmt;

use crate::error::Result;
use crate::grammar::{
    Param, Params, Scanner, is_letters_ignore_case, is_token_char, syntax, unquote,
};
use crate::uri::Uri;

/// The display name in front of a `<URI>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayName<'a> {
    /// A quoted string; holds the text between the quotes with `\` escapes still in place.
    Quoted(&'a str),
    /// One or more tokens separated by white space, as written.
    Tokens(&'a str),
}

impl<'a> DisplayName<'a> {
    /// The display name as text, escapes undone.
    pub fn text(&self) -> Cow<'a, str> {
        match self {
            DisplayName::Quoted(raw) => unquote(raw),
            DisplayName::Tokens(raw) => Cow::Borrowed(raw),
        }
    }
}

impl fmt::Display for DisplayName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisplayName::Quoted(raw) => write!(f, "\"{raw}\""),
            DisplayName::Tokens(raw) => f.write_str(raw),
        }
    }
}

/// An address with optional display name and header parameters, e.g.
/// `"Bob" <sip:bob@biloxi.com>;tag=a6c85cf`.
///
/// In the `addr-spec` form (no angle brackets) every `;` parameter after the URI belongs to
/// the header, not to the URI (RFC 3261 §20.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name, only in the bracketed form.
    pub display_name: Option<DisplayName<'a>>,
    /// The address.
    pub uri: Uri<'a>,
    /// Header parameters (`tag`, `expires`, ...).
    pub params: Params<'a>,
    /// Whether the URI was written between `<` and `>`.
    pub bracketed: bool,
    /// The `tag` parameter, captured while parsing (the hot path reads it for every message).
    tag: Option<&'a str>,
    /// The `expires` parameter's raw value, captured likewise for Contact.
    expires: Option<&'a str>,
}

impl<'a> NameAddr<'a> {
    /// Parses one header value (already split at top-level commas; may contain folded LWS).
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        let addr = Self::scan(&mut sc)?;
        sc.end("; header parameter or end of value")?;
        Ok(addr)
    }

    /// Parses the address and its parameters at the scanner's position.
    pub(crate) fn scan(sc: &mut Scanner<'a>) -> Result<Self> {
        Self::scan_with(sc, |_| Ok(()))
    }

    /// Like [`NameAddr::scan`], showing each header parameter to `visit` as it is validated.
    #[inline]
    pub(crate) fn scan_with(
        sc: &mut Scanner<'a>,
        visit: impl FnMut(Param<'a>) -> Result<()>,
    ) -> Result<Self> {
        sc.skip_lws();
        let display_name = match sc.peek() {
            Some(b'"') => {
                let raw = sc.quoted_string()?;
                sc.skip_lws();
                if sc.peek() != Some(b'<') {
                    return Err(sc.error("< after display name"));
                }
                Some(DisplayName::Quoted(raw))
            }
            Some(b'<') => None,
            Some(_) if memchr::memchr(b'<', sc.rest().as_bytes()).is_some() => {
                Some(DisplayName::Tokens(scan_token_words(sc)?))
            }
            Some(_) => return Self::scan_addr_spec(sc, visit),
            None => return Err(sc.error("address")),
        };
        sc.expect(b'<', "<")?;
        let start = sc.pos();
        let len = memchr::memchr(b'>', sc.rest().as_bytes())
            .ok_or(syntax(sc.src().len(), "> closing the URI"))?;
        let uri_text = &sc.rest()[..len];
        let uri = Uri::parse(uri_text).map_err(|e| e.at_offset(start))?;
        sc.advance(len + 1);
        let (params, tag, expires) = scan_params(sc, visit)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
            bracketed: true,
            tag,
            expires,
        })
    }

    fn scan_addr_spec(
        sc: &mut Scanner<'a>,
        visit: impl FnMut(Param<'a>) -> Result<()>,
    ) -> Result<Self> {
        let start = sc.pos();
        let rest = sc.rest();
        let len = rest
            .bytes()
            .position(|b| matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(rest.len());
        let uri_text = &rest[..len];
        if let Some(i) = uri_text.bytes().position(|b| b == b'?' || b == b',') {
            // RFC 3261 §20: a URI with a comma, question mark or semicolon must be bracketed.
            return Err(syntax(start + i, "URI with , or ? enclosed in < >"));
        }
        let uri = Uri::parse(uri_text).map_err(|e| e.at_offset(start))?;
        sc.advance(len);
        let (params, tag, expires) = scan_params(sc, visit)?;
        Ok(NameAddr {
            display_name: None,
            uri,
            params,
            bracketed: false,
            tag,
            expires,
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }

    /// The raw `expires` parameter (read through [`super::Contact::expires`]).
    pub(crate) fn expires_param(&self) -> Option<&'a str> {
        self.expires
    }

    /// An address without display name or parameters, e.g. for a Route built from a URI.
    pub fn from_uri(uri: Uri<'a>) -> Self {
        NameAddr {
            display_name: None,
            uri,
            params: Params::default(),
            bracketed: true,
            tag: None,
            expires: None,
        }
    }
}

/// Header parameters, capturing the first `tag` and `expires` on the way.
#[inline]
fn scan_params<'a>(
    sc: &mut Scanner<'a>,
    mut visit: impl FnMut(Param<'a>) -> Result<()>,
) -> Result<(Params<'a>, Option<&'a str>, Option<&'a str>)> {
    let (mut tag, mut expires) = (None, None);
    let params = sc.header_params_visit(|p| {
        let name = p.name;
        if tag.is_none() && is_letters_ignore_case(name, "tag") {
            tag = p.value_unquoted();
        } else if expires.is_none() && is_letters_ignore_case(name, "expires") {
            expires = p.value_unquoted();
        }
        visit(p)
    })?;
    Ok((params, tag, expires))
}

/// `*(token LWS)` before a `<`: returns the words as written (inner white space kept).
fn scan_token_words<'a>(sc: &mut Scanner<'a>) -> Result<&'a str> {
    let start = sc.pos();
    let mut end;
    loop {
        sc.take_while1(is_token_char, "display name or <")?;
        end = sc.pos();
        sc.skip_lws();
        if sc.peek() == Some(b'<') {
            return Ok(&sc.src()[start..end]);
        }
    }
}

impl fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An addr-spec whose URI has parameters or headers must be bracketed on output, or
        // they would read back as header parameters.
        let needs_brackets = self.bracketed
            || self.display_name.is_some()
            || match &self.uri {
                Uri::Sip(s) => !s.params.is_empty() || s.headers.is_some(),
                Uri::Tel(t) => !t.params.is_empty(),
                Uri::Other { rest, .. } => rest.contains([';', ',', '?']),
            };
        if needs_brackets {
            if let Some(d) = &self.display_name {
                write!(f, "{d} ")?;
            }
            write!(f, "<{}>", self.uri)?;
        } else {
            write!(f, "{}", self.uri)?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::uri::Host;

    #[test]
    fn forms() {
        let a = NameAddr::parse("\"Bob \\\"B\\\"\" <sip:bob@biloxi.com>;tag=a6c85cf").unwrap();
        assert_eq!(a.display_name.unwrap().text(), "Bob \"B\"");
        assert_eq!(a.tag(), Some("a6c85cf"));
        assert!(a.bracketed);

        let b = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(b.display_name, Some(DisplayName::Tokens("caller")));

        let c = NameAddr::parse("Bob  Smith <sip:bob@x>").unwrap();
        assert_eq!(c.display_name.unwrap().text(), "Bob  Smith");

        let d = NameAddr::parse("\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
            .unwrap();
        assert!(!d.bracketed);
        assert_eq!(d.tag(), Some("1918181833n"));
        assert_eq!(
            d.uri.as_sip().unwrap().host,
            Host::Domain("chair-dnrc.example.com")
        );
    }

    #[test]
    fn addr_spec_params_belong_to_header() {
        // RFC 4475 cparam01 / cparam02.
        let a = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(a.params.has("unknownparam"));
        assert!(a.uri.as_sip().unwrap().params.is_empty());
        let b = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(b.params.is_empty());
        assert!(b.uri.as_sip().unwrap().params.has("unknownparam"));
    }

    #[test]
    fn refused() {
        // RFC 4475 badaspec: white space inside < >.
        assert_eq!(
            NameAddr::parse("\"Watson, Thomas\" < sip:t.watson@example.org >"),
            Err(Error::Syntax {
                offset: 18,
                expected: "URI scheme"
            })
        );
        // RFC 4475 regbadct: an addr-spec with headers.
        assert!(NameAddr::parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_err());
        // RFC 4475 quotbal: unterminated quote.
        assert!(NameAddr::parse("\"Mr. J. User <sip:j.user@example.com>").is_err());
        // RFC 4475 baddn: an unquoted display name split at its comma.
        assert!(NameAddr::parse("Bell").is_err());
        assert!(NameAddr::parse("<sip:a@b").is_err());
        assert!(NameAddr::parse("<sip:a@b> x").is_err());
        assert!(NameAddr::parse("").is_err());
    }

    #[test]
    fn display_round_trip() {
        for s in [
            "\"A \\\"q\\\"\" <sip:a@b>;tag=1",
            "<sip:a@b;lr>",
            "sip:a@b;tag=x",
            "Alice <tel:+1555>;expires=5",
        ] {
            let a = NameAddr::parse(s).unwrap();
            assert_eq!(a.to_string(), s);
            assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);
        }
    }
}
