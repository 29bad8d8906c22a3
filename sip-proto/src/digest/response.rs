//! Computing and checking digest responses (RFC 7616 §3.4, RFC 2617 §3.2.2).

use std::fmt::{self, Write as _};

use super::{Algorithm, Password, Qop};
use crate::error::{Error, Result};
use crate::grammar::write_quoted;
use crate::values::{Challenge, Credentials};

fn refuse(reason: &'static str) -> Error {
    Error::InvalidInput {
        what: "digest authentication",
        reason,
    }
}

/// The inputs of one digest computation, independent of how they arrived.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// User name (plain, not hashed).
    pub username: &'a str,
    /// Realm.
    pub realm: &'a str,
    /// Server nonce.
    pub nonce: &'a str,
    /// Client nonce (needed with qop and for `-sess` algorithms).
    pub cnonce: Option<&'a str>,
    /// Nonce count.
    pub nc: u32,
    /// Quality of protection, `None` for the RFC 2069 form.
    pub qop: Option<Qop>,
    /// Request method.
    pub method: &'a str,
    /// The digest-uri (the Request-URI as written).
    pub uri: &'a str,
    /// Message body (hashed for `auth-int`).
    pub body: &'a [u8],
}

impl DigestInput<'_> {
    /// `H(A1)` from the password.
    pub fn ha1(&self, password: &Password) -> Result<String> {
        let base = self.algorithm.hash_joined(&[
            self.username.as_bytes(),
            self.realm.as_bytes(),
            password.expose().as_bytes(),
        ]);
        self.session_ha1(base)
    }

    /// Turns the stored `H(username:realm:password)` into `H(A1)` (adds nonce and cnonce for
    /// `-sess` algorithms).
    pub fn session_ha1(&self, base: String) -> Result<String> {
        if !self.algorithm.is_session() {
            return Ok(base);
        }
        let cnonce = self
            .cnonce
            .ok_or(refuse("a -sess algorithm needs a cnonce"))?;
        Ok(self
            .algorithm
            .hash_joined(&[base.as_bytes(), self.nonce.as_bytes(), cnonce.as_bytes()]))
    }

    /// The `response` value for a given `H(A1)`.
    pub fn response_from_ha1(&self, ha1: &str) -> Result<String> {
        let alg = self.algorithm;
        let ha2 = match self.qop {
            Some(Qop::AuthInt) => {
                let body = alg.hash_joined(&[self.body]);
                alg.hash_joined(&[self.method.as_bytes(), self.uri.as_bytes(), body.as_bytes()])
            }
            _ => alg.hash_joined(&[self.method.as_bytes(), self.uri.as_bytes()]),
        };
        Ok(match self.qop {
            Some(qop) => {
                let cnonce = self.cnonce.ok_or(refuse("qop needs a cnonce"))?;
                let nc = format!("{:08x}", self.nc);
                alg.hash_joined(&[
                    ha1.as_bytes(),
                    self.nonce.as_bytes(),
                    nc.as_bytes(),
                    cnonce.as_bytes(),
                    qop.name().as_bytes(),
                    ha2.as_bytes(),
                ])
            }
            None => alg.hash_joined(&[ha1.as_bytes(), self.nonce.as_bytes(), ha2.as_bytes()]),
        })
    }

    /// The `response` value for a password.
    pub fn response(&self, password: &Password) -> Result<String> {
        self.response_from_ha1(&self.ha1(password)?)
    }
}

/// What a client needs to answer a challenge: request, identity and the per-request nonce
/// state. Build with [`DigestRequest::new`] and the chained setters.
#[derive(Debug, Clone, Copy)]
pub struct DigestRequest<'a> {
    method: &'a str,
    uri: &'a str,
    username: &'a str,
    password: &'a Password,
    body: &'a [u8],
    cnonce: &'a str,
    nc: u32,
    qop: Option<Qop>,
}

impl<'a> DigestRequest<'a> {
    /// A request with an empty body, `nc` 1 and no cnonce yet (set one with
    /// [`DigestRequest::cnonce`] whenever the challenge offers a qop).
    pub fn new(method: &'a str, uri: &'a str, username: &'a str, password: &'a Password) -> Self {
        DigestRequest {
            method,
            uri,
            username,
            password,
            body: b"",
            cnonce: "",
            nc: 1,
            qop: None,
        }
    }

    /// The message body (hashed for `auth-int`).
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// The client nonce (use a fresh random value per challenge).
    pub fn cnonce(mut self, cnonce: &'a str) -> Self {
        self.cnonce = cnonce;
        self
    }

    /// The nonce count: how many requests this client has sent with the same nonce.
    pub fn nc(mut self, nc: u32) -> Self {
        self.nc = nc;
        self
    }

    /// Forces a qop; by default `auth` is chosen when offered, else `auth-int`.
    pub fn qop(mut self, qop: Qop) -> Self {
        self.qop = Some(qop);
        self
    }

    /// Answers `challenge` with Authorization (or Proxy-Authorization) credentials.
    pub fn answer(&self, challenge: &Challenge<'_>) -> Result<Authorization> {
        if !challenge.is_digest() {
            return Err(refuse("only the Digest scheme is supported"));
        }
        let algorithm = match challenge.algorithm() {
            None => Algorithm::Md5,
            Some(name) => Algorithm::from_name(name).ok_or(refuse("unsupported algorithm"))?,
        };
        let realm = challenge.realm().ok_or(refuse("challenge without realm"))?;
        let nonce = challenge.nonce().ok_or(refuse("challenge without nonce"))?;
        let offered: Vec<Qop> = challenge.qop_options().filter_map(Qop::from_name).collect();
        let qop = match self.qop {
            Some(q) if offered.contains(&q) => Some(q),
            Some(_) => return Err(refuse("the challenge does not offer the requested qop")),
            None if offered.contains(&Qop::Auth) => Some(Qop::Auth),
            None if offered.contains(&Qop::AuthInt) => Some(Qop::AuthInt),
            None if challenge.qop_options().next().is_some() => {
                return Err(refuse("no supported qop offered"));
            }
            None => None,
        };
        let needs_cnonce = qop.is_some() || algorithm.is_session();
        if needs_cnonce && self.cnonce.is_empty() {
            return Err(refuse("a cnonce is required"));
        }
        let input = DigestInput {
            algorithm,
            username: self.username,
            realm: &realm,
            nonce: &nonce,
            cnonce: needs_cnonce.then_some(self.cnonce),
            nc: self.nc,
            qop,
            method: self.method,
            uri: self.uri,
            body: self.body,
        };
        let response = input.response(self.password)?;
        let userhash = challenge.userhash();
        let username = if userhash {
            algorithm.hash_joined(&[self.username.as_bytes(), realm.as_bytes()])
        } else {
            self.username.to_owned()
        };
        Ok(Authorization {
            username,
            realm: realm.into_owned(),
            nonce: nonce.into_owned(),
            uri: self.uri.to_owned(),
            response,
            algorithm: challenge.algorithm().map(|_| algorithm),
            cnonce: needs_cnonce.then(|| self.cnonce.to_owned()),
            opaque: challenge.opaque().map(|o| o.into_owned()),
            qop,
            nc: qop.map(|_| self.nc),
            userhash,
        })
    }
}

/// Owned digest credentials, written as an Authorization / Proxy-Authorization value by
/// `Display` (and parsed back by [`Credentials::parse`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// User name, or its hash when `userhash`.
    pub username: String,
    /// Realm.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// digest-uri.
    pub uri: String,
    /// The hex response.
    pub response: String,
    /// Algorithm, written only when the challenge named one.
    pub algorithm: Option<Algorithm>,
    /// Client nonce.
    pub cnonce: Option<String>,
    /// Opaque value echoed from the challenge.
    pub opaque: Option<String>,
    /// Chosen qop.
    pub qop: Option<Qop>,
    /// Nonce count (written with qop).
    pub nc: Option<u32>,
    /// Whether `username` is hashed.
    pub userhash: bool,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .field("nonce", &self.nonce)
            .field("uri", &self.uri)
            .field("response", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .field("cnonce", &self.cnonce)
            .field("qop", &self.qop)
            .field("nc", &self.nc)
            .field("userhash", &self.userhash)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.username.is_ascii() {
            f.write_str("Digest username=")?;
            write_quoted(f, &self.username)?;
        } else {
            // RFC 7616 §3.4.4: a name that a quoted-string cannot carry goes as username*.
            f.write_str("Digest username*=UTF-8''")?;
            for b in self.username.bytes() {
                if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                    f.write_char(char::from(b))?;
                } else {
                    write!(f, "%{b:02X}")?;
                }
            }
        }
        f.write_str(", realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        write_quoted(f, &self.nonce)?;
        f.write_str(", uri=")?;
        write_quoted(f, &self.uri)?;
        write!(f, ", response=\"{}\"", self.response)?;
        if let Some(a) = self.algorithm {
            write!(f, ", algorithm={a}")?;
        }
        if let Some(c) = &self.cnonce {
            f.write_str(", cnonce=")?;
            write_quoted(f, c)?;
        }
        if let Some(o) = &self.opaque {
            f.write_str(", opaque=")?;
            write_quoted(f, o)?;
        }
        if let Some(q) = self.qop {
            write!(f, ", qop={q}")?;
        }
        if let Some(nc) = self.nc {
            write!(f, ", nc={nc:08x}")?;
        }
        if self.userhash {
            f.write_str(", userhash=true")?;
        }
        Ok(())
    }
}

/// Server side: recomputes the response of `credentials` for `method` and `body` with the
/// user's plain name and password, and compares it in constant time. With `userhash` the
/// credentials' username must be the hash of `username`.
pub fn verify(
    credentials: &Credentials<'_>,
    method: &str,
    body: &[u8],
    username: &str,
    password: &Password,
) -> Result<bool> {
    let (input, claimed) = input_of(credentials, method, body, username)?;
    let Some(input) = input else { return Ok(false) };
    let expected = input.response(password)?;
    Ok(constant_time_eq(expected.as_bytes(), claimed.as_bytes()))
}

/// Like [`verify`] with a stored `H(username:realm:password)` instead of the password.
pub fn verify_ha1(
    credentials: &Credentials<'_>,
    method: &str,
    body: &[u8],
    username: &str,
    ha1: &str,
) -> Result<bool> {
    let (input, claimed) = input_of(credentials, method, body, username)?;
    let Some(input) = input else { return Ok(false) };
    let expected = input.response_from_ha1(&input.session_ha1(ha1.to_ascii_lowercase())?)?;
    Ok(constant_time_eq(expected.as_bytes(), claimed.as_bytes()))
}

/// Rebuilds the digest input from credentials. `Ok((None, _))` when the username does not
/// belong to `username`.
fn input_of<'c>(
    credentials: &'c Credentials<'_>,
    method: &'c str,
    body: &'c [u8],
    username: &'c str,
) -> Result<(Option<DigestInput<'c>>, &'c str)> {
    if !credentials.is_digest() {
        return Err(refuse("only the Digest scheme is supported"));
    }
    let params = &credentials.params;
    let algorithm = match credentials.algorithm() {
        None => Algorithm::Md5,
        Some(name) => Algorithm::from_name(name).ok_or(refuse("unsupported algorithm"))?,
    };
    // Borrowed views: quoted values without escapes are the common case; values with escapes
    // are refused rather than allocated, as no digest field needs a backslash.
    let plain = |name: &'static str| -> Result<Option<&'c str>> {
        match params.get(name) {
            None => Ok(None),
            Some(p) => {
                let v = p.value_unquoted().unwrap_or("");
                if v.contains('\\') {
                    Err(refuse("escaped characters in a digest parameter"))
                } else {
                    Ok(Some(v))
                }
            }
        }
    };
    let realm = plain("realm")?.ok_or(refuse("credentials without realm"))?;
    let nonce = plain("nonce")?.ok_or(refuse("credentials without nonce"))?;
    let uri = plain("uri")?.ok_or(refuse("credentials without uri"))?;
    let claimed = plain("response")?.ok_or(refuse("credentials without response"))?;
    let given_user = credentials
        .username()
        .ok_or(refuse("credentials without username"))?;
    let cnonce = plain("cnonce")?;
    let qop = match credentials.qop() {
        None => None,
        Some(q) => Some(Qop::from_name(q).ok_or(refuse("unsupported qop"))?),
    };
    let nc = credentials.nc();
    if qop.is_some() && (cnonce.is_none() || nc.is_none()) {
        return Err(refuse("qop without cnonce or nc"));
    }
    let user_ok = if credentials.userhash() {
        let hashed = algorithm.hash_joined(&[username.as_bytes(), realm.as_bytes()]);
        constant_time_eq(
            hashed.as_bytes(),
            given_user.to_ascii_lowercase().as_bytes(),
        )
    } else {
        given_user == username
    };
    if !user_ok {
        return Ok((None, claimed));
    }
    let input = DigestInput {
        algorithm,
        username,
        realm,
        nonce,
        cnonce,
        nc: nc.unwrap_or(0),
        qop,
        method,
        uri,
        body,
    };
    Ok((Some(input), claimed))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y.to_ascii_lowercase()))
            == 0
}
