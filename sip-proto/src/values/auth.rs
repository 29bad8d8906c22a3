//! Authentication headers (RFC 3261 §20.27, §20.28, §20.7, §20.44; RFC 7616; RFC 8760):
//! WWW-Authenticate / Proxy-Authenticate challenges and Authorization / Proxy-Authorization
//! credentials. Their values are comma-separated `name=value` parameters, so these headers must
//! NOT be split with [`crate::grammar::split_list`]: hand the whole value to `parse`.

use std::borrow::Cow;
use std::fmt;

use crate::error::Result;
use crate::grammar::{Param, Scanner, offset_in, syntax};

/// The `auth-param` list after the scheme: `realm="x", nonce="y", qop="auth"`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthParams<'a> {
    raw: &'a str,
}

impl<'a> AuthParams<'a> {
    fn scan(sc: &mut Scanner<'a>) -> Result<Self> {
        let start = sc.pos();
        let mut end = start;
        let mut first = true;
        loop {
            sc.skip_lws();
            if sc.is_empty() {
                break;
            }
            if !first {
                sc.expect(b',', ", between parameters")?;
                sc.skip_lws();
                if sc.is_empty() {
                    return Err(sc.error("parameter after ,"));
                }
            }
            sc.token("parameter name")?;
            sc.separator(b'=', "= after parameter name")?;
            if sc.peek() == Some(b'"') {
                sc.quoted_string()?;
            } else {
                sc.token("token or quoted-string value")?;
            }
            end = sc.pos();
            first = false;
        }
        if first {
            return Err(sc.error("authentication parameter"));
        }
        Ok(AuthParams {
            raw: &sc.src()[start..end],
        })
    }

    /// The raw parameter text.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The parameters in order; values raw (quoted ones keep their quotes).
    pub fn iter(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let mut sc = Scanner::new(self.raw);
        std::iter::from_fn(move || {
            sc.skip_lws();
            sc.eat(b',');
            sc.skip_lws();
            let name = sc.token("").ok()?;
            sc.separator(b'=', "").ok()?;
            let start = sc.pos();
            if sc.peek() == Some(b'"') {
                sc.quoted_string().ok()?;
            } else {
                sc.token("").ok()?;
            }
            Some(Param {
                name,
                value: Some(&sc.src()[start..sc.pos()]),
            })
        })
    }

    /// The first parameter called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The value of `name`, unquoted and unescaped.
    pub fn text(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get(name)?.text()
    }

    /// The value of `name` with quotes stripped (escapes left as written).
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name)?.value_unquoted()
    }
}

impl fmt::Debug for AuthParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a `response` (it is a password-derived hash, still worth hiding).
        let mut list = f.debug_list();
        for p in self.iter() {
            if p.name.eq_ignore_ascii_case("response") {
                list.entry(&"response=<redacted>");
            } else {
                list.entry(&p);
            }
        }
        list.finish()
    }
}

impl fmt::Display for AuthParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

fn scan_scheme<'a>(value: &'a str) -> Result<(&'a str, AuthParams<'a>)> {
    let mut sc = Scanner::new(value);
    sc.skip_lws();
    let scheme = sc.token("authentication scheme")?;
    if !sc.skip_lws() {
        return Err(sc.error("white space after the scheme"));
    }
    let params = AuthParams::scan(&mut sc)?;
    sc.end("end of value")?;
    Ok((scheme, params))
}

fn check_hex_nc<'a>(value: &'a str, params: &AuthParams<'a>) -> Result<()> {
    if let Some(nc) = params.get("nc") {
        let v = nc.value.unwrap_or("");
        if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(syntax(offset_in(value, v), "nc of 8 hex digits"));
        }
    }
    Ok(())
}

/// A WWW-Authenticate or Proxy-Authenticate challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// Scheme, normally `Digest`.
    pub scheme: &'a str,
    /// The parameters.
    pub params: AuthParams<'a>,
}

impl<'a> Challenge<'a> {
    /// Parses a whole WWW-Authenticate / Proxy-Authenticate value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let (scheme, params) = scan_scheme(value)?;
        Ok(Challenge { scheme, params })
    }

    /// Whether the scheme is `Digest`.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.params.text("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.params.text("nonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.params.text("opaque")
    }

    /// `domain` (space-separated URIs).
    pub fn domain(&self) -> Option<Cow<'a, str>> {
        self.params.text("domain")
    }

    /// `algorithm` (absent means MD5).
    pub fn algorithm(&self) -> Option<&'a str> {
        self.params.value("algorithm")
    }

    /// `stale=true`: the nonce expired but the credentials were right.
    pub fn stale(&self) -> bool {
        self.params
            .value("stale")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `userhash=true` (RFC 7616): the server accepts a hashed user name.
    pub fn userhash(&self) -> bool {
        self.params
            .value("userhash")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `charset` (RFC 7616, only `UTF-8` is defined).
    pub fn charset(&self) -> Option<&'a str> {
        self.params.value("charset")
    }

    /// The qop options offered (`auth`, `auth-int`), from the quoted comma list.
    pub fn qop_options(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .value("qop")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

impl fmt::Display for Challenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scheme, self.params)
    }
}

/// Authorization or Proxy-Authorization credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// Scheme, normally `Digest`.
    pub scheme: &'a str,
    /// The parameters.
    pub params: AuthParams<'a>,
}

impl<'a> Credentials<'a> {
    /// Parses a whole Authorization / Proxy-Authorization value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let (scheme, params) = scan_scheme(value)?;
        check_hex_nc(value, &params)?;
        Ok(Credentials { scheme, params })
    }

    /// Whether the scheme is `Digest`.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// `username` (or the user hash when [`Credentials::userhash`]).
    ///
    /// A non-ASCII name may come as `username*=UTF-8''J%C3%A4s%C3%B8n` (RFC 7616 §3.4.4,
    /// RFC 8187 encoding); it is decoded here.
    pub fn username(&self) -> Option<Cow<'a, str>> {
        if let Some(plain) = self.params.text("username") {
            return Some(plain);
        }
        let ext = self.params.value("username*")?;
        let (charset, rest) = ext.split_once('\'')?;
        let (_language, encoded) = rest.split_once('\'')?;
        charset
            .eq_ignore_ascii_case("UTF-8")
            .then(|| crate::uri::escape::unescape(encoded))
    }

    /// `realm`.
    pub fn realm(&self) -> Option<Cow<'a, str>> {
        self.params.text("realm")
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<Cow<'a, str>> {
        self.params.text("nonce")
    }

    /// `uri` (the digest-uri).
    pub fn uri(&self) -> Option<Cow<'a, str>> {
        self.params.text("uri")
    }

    /// `response`, the hex digest.
    pub fn response(&self) -> Option<&'a str> {
        self.params.value("response")
    }

    /// `algorithm` (absent means MD5).
    pub fn algorithm(&self) -> Option<&'a str> {
        self.params.value("algorithm")
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<Cow<'a, str>> {
        self.params.text("cnonce")
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<Cow<'a, str>> {
        self.params.text("opaque")
    }

    /// `qop` chosen by the client.
    pub fn qop(&self) -> Option<&'a str> {
        self.params.value("qop")
    }

    /// `nc`, the nonce count.
    pub fn nc(&self) -> Option<u32> {
        self.params
            .value("nc")
            .and_then(|v| u32::from_str_radix(v, 16).ok())
    }

    /// `userhash=true` (RFC 7616).
    pub fn userhash(&self) -> bool {
        self.params
            .value("userhash")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

impl fmt::Display for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scheme, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAMAILIO: &str = "Digest realm=\"127.0.0.1\", nonce=\"awTnlGsE5mg+p6ZPPjtnYIGO8yIgjqoELnTYFIA=\", qop=\"auth\"";
    const JSSIP: &str = "Digest algorithm=MD5, username=\"201\", realm=\"127.0.0.1\", nonce=\"awTnlGsE5mg+p6ZPPjtnYIGO8yIgjqoELnTYFIA=\", uri=\"sip:127.0.0.1\", response=\"3e5e5239cf35294006bbda3ad181a2a9\", qop=auth, cnonce=\"552o1gl7083u\", nc=00000001";

    #[test]
    fn challenge() {
        let c = Challenge::parse(KAMAILIO).unwrap();
        assert!(c.is_digest());
        assert_eq!(c.realm().unwrap(), "127.0.0.1");
        assert_eq!(
            c.nonce().unwrap(),
            "awTnlGsE5mg+p6ZPPjtnYIGO8yIgjqoELnTYFIA="
        );
        assert_eq!(c.qop_options().collect::<Vec<_>>(), ["auth"]);
        assert!(!c.stale());
        assert_eq!(c.to_string(), KAMAILIO);
        let c = Challenge::parse(
            "Digest\r\n realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, nonce=\"x\", opaque=\"y\", stale=TRUE, userhash=true, charset=UTF-8",
        )
        .unwrap();
        assert_eq!(c.qop_options().collect::<Vec<_>>(), ["auth", "auth-int"]);
        assert_eq!(c.algorithm(), Some("SHA-256"));
        assert!(c.stale() && c.userhash());
        assert_eq!(c.charset(), Some("UTF-8"));
    }

    #[test]
    fn credentials() {
        let c = Credentials::parse(JSSIP).unwrap();
        assert_eq!(c.username().unwrap(), "201");
        assert_eq!(c.uri().unwrap(), "sip:127.0.0.1");
        assert_eq!(c.response(), Some("3e5e5239cf35294006bbda3ad181a2a9"));
        assert_eq!(c.qop(), Some("auth"));
        assert_eq!(c.nc(), Some(1));
        assert_eq!(c.cnonce().unwrap(), "552o1gl7083u");
        assert_eq!(c.to_string(), JSSIP);
        assert!(!format!("{c:?}").contains("3e5e5239"));
    }

    #[test]
    fn refused() {
        assert!(Challenge::parse("Digest").is_err());
        assert!(Challenge::parse("Digest realm").is_err());
        assert!(Challenge::parse("Digest realm=\"a\" nonce=\"b\"").is_err());
        assert!(Challenge::parse("Digest realm=\"a\",").is_err());
        assert!(Challenge::parse("Digest realm=\"a").is_err());
        assert!(Credentials::parse("Digest username=\"a\", nc=1").is_err());
    }
}
