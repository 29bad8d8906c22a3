//! `sip:` and `sips:` URIs (RFC 3261 §19.1, §25.1).

use std::borrow::Cow;
use std::fmt;

use super::escape::{self, check, is_password_char, is_user_char};
use super::host::{Host, scan_port};
use crate::error::Result;
use crate::grammar::{Param, Params, Scanner, class, syntax};

/// A `sip:` or `sips:` URI, borrowing from the text it was parsed from.
///
/// User, password, parameters and headers keep their `%` escapes; the `*_unescaped`
/// accessors decode them on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `true` for `sips:`.
    pub secure: bool,
    /// User part, escaped as written.
    pub user: Option<&'a str>,
    /// Password, escaped as written (deprecated by RFC 3261 but still parsed).
    pub password: Option<&'a str>,
    /// Host.
    pub host: Host<'a>,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params<'a>,
    /// Raw header part after `?` (without the `?`), if any.
    pub headers: Option<&'a str>,
}

impl<'a> SipUri<'a> {
    /// Parses a complete `sip:`/`sips:` URI.
    pub fn parse(s: &'a str) -> Result<Self> {
        let colon = s.find(':').ok_or(syntax(0, "sip: or sips: scheme"))?;
        let secure = match &s[..colon] {
            x if x.eq_ignore_ascii_case("sip") => false,
            x if x.eq_ignore_ascii_case("sips") => true,
            _ => return Err(syntax(0, "sip: or sips: scheme")),
        };
        Self::parse_after_scheme(s, colon + 1, secure)
    }

    /// Parses the part after `scheme:`, which starts at `start` in `s`.
    pub(crate) fn parse_after_scheme(s: &'a str, start: usize, secure: bool) -> Result<Self> {
        let mut sc = Scanner::new(s);
        let body = &s[start..];
        // Fast path: a user part of plain user characters ending at the first `@`.
        let user_len = escape::span_class(body.as_bytes(), 0, class::USER);
        let first_at = match body.as_bytes().get(user_len) {
            Some(b'@') => Some(user_len),
            _ => memchr::memchr(b'@', &body.as_bytes()[user_len..]).map(|i| user_len + i),
        };
        let (user, password, host_start) = match first_at {
            Some(at) if at == user_len && at > 0 => (Some(&body[..at]), None, start + at + 1),
            Some(at) => {
                let userinfo = &body[..at];
                let (user, password) = match memchr::memchr(b':', userinfo.as_bytes()) {
                    Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(syntax(start, "user"));
                }
                check(user, is_user_char, start, "user character")?;
                if let Some(p) = password {
                    check(
                        p,
                        is_password_char,
                        start + user.len() + 1,
                        "password character",
                    )?;
                }
                (Some(user), password, start + at + 1)
            }
            None => (None, None, start),
        };
        sc.advance(host_start);
        let host = Host::scan(&mut sc)?;
        let port = scan_port(&mut sc, false)?;
        let params = scan_uri_params(&mut sc)?;
        let headers = if sc.eat(b'?') {
            Some(scan_uri_headers(&mut sc)?)
        } else {
            None
        };
        if !sc.is_empty() {
            return Err(sc.error("end of URI"));
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// The scheme as written canonically: `"sip"` or `"sips"`.
    pub fn scheme(&self) -> &'static str {
        if self.secure { "sips" } else { "sip" }
    }

    /// The user part with escapes decoded.
    pub fn user_unescaped(&self) -> Option<Cow<'a, str>> {
        self.user.map(escape::unescape)
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.param_value("transport")
    }

    /// The `user` parameter (`phone`, `ip`, ...).
    pub fn user_param(&self) -> Option<&'a str> {
        self.param_value("user")
    }

    /// The `method` parameter.
    pub fn method(&self) -> Option<&'a str> {
        self.param_value("method")
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param_value("maddr")
    }

    /// The `ttl` parameter, when it is a valid number of 0..=255.
    pub fn ttl(&self) -> Option<u8> {
        self.param_value("ttl").and_then(|v| v.parse().ok())
    }

    /// Whether the `lr` (loose routing) parameter is present.
    pub fn lr(&self) -> bool {
        self.param("lr").is_some()
    }

    /// The first URI parameter called `name`, compared case-insensitively and with `%`
    /// escapes in the written name decoded (`;%6C%72` is `lr`). The value stays escaped.
    pub fn param(&self, name: &str) -> Option<Param<'a>> {
        self.params.iter().find(|p| {
            p.name.eq_ignore_ascii_case(name)
                || (p.name.contains('%') && escape::eq_unescaped_ignore_case(p.name, name))
        })
    }

    /// The value of [`SipUri::param`] `name`, when it has one.
    fn param_value(&self, name: &str) -> Option<&'a str> {
        self.param(name)?.value
    }

    /// The headers as `(name, value)` pairs, both still escaped.
    pub fn header_pairs(&self) -> HeaderPairs<'a> {
        HeaderPairs {
            rest: self.headers.unwrap_or(""),
        }
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())?;
        f.write_str(":")?;
        if let Some(user) = self.user {
            f.write_str(user)?;
            if let Some(p) = self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(self.params.as_str())?;
        if let Some(h) = self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

/// Iterator over the `name=value` headers of a SIP URI.
#[derive(Debug, Clone)]
pub struct HeaderPairs<'a> {
    rest: &'a str,
}

impl<'a> Iterator for HeaderPairs<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.rest.is_empty() {
            return None;
        }
        let (pair, rest) = self.rest.split_once('&').unwrap_or((self.rest, ""));
        self.rest = rest;
        Some(pair.split_once('=').unwrap_or((pair, "")))
    }
}

/// Parses `*( ";" pname [ "=" pvalue ] )` of a URI (no white space allowed).
#[inline]
pub(crate) fn scan_uri_params<'a>(sc: &mut Scanner<'a>) -> Result<Params<'a>> {
    let start = sc.pos();
    while sc.eat(b';') {
        let name = escape::span_class(sc.src().as_bytes(), sc.pos(), class::PARAM);
        if name == 0 {
            return Err(sc.error("URI parameter name"));
        }
        sc.advance(name);
        if sc.eat(b'=') {
            let value = escape::span_class(sc.src().as_bytes(), sc.pos(), class::PARAM);
            if value == 0 {
                return Err(sc.error("URI parameter value"));
            }
            sc.advance(value);
        }
    }
    Ok(Params::new(&sc.src()[start..sc.pos()]))
}

/// Parses `hname "=" hvalue *( "&" hname "=" hvalue )` of a SIP URI.
fn scan_uri_headers<'a>(sc: &mut Scanner<'a>) -> Result<&'a str> {
    let start = sc.pos();
    loop {
        let name = escape::span_class(sc.src().as_bytes(), sc.pos(), class::HEADER);
        if name == 0 {
            return Err(sc.error("URI header name"));
        }
        sc.advance(name);
        sc.expect(b'=', "= after URI header name")?;
        let value = escape::span_class(sc.src().as_bytes(), sc.pos(), class::HEADER);
        sc.advance(value);
        if !sc.eat(b'&') {
            break;
        }
    }
    Ok(&sc.src()[start..sc.pos()])
}
