//! Digest authentication of our requests (RFC 3261 §22, RFC 7616, RFC 8760): credentials per
//! realm, the Authorization lines for a 401/407, and the retry rules that stop a wrong
//! password from looping.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

use crate::message::SipMessage;
use crate::values::Challenge;

/// A password that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Password {
        Password(value.into())
    }

    /// The real value, for digest computation only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A user name and password, for one realm or for any realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authentication user name.
    pub username: String,
    /// The password.
    pub password: Password,
    /// The realm these credentials are for; `None` answers any realm.
    pub realm: Option<String>,
}

impl Credentials {
    /// Credentials for any realm.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Password::new(password),
            realm: None,
        }
    }

    /// The same credentials restricted to `realm`.
    pub fn for_realm(mut self, realm: impl Into<String>) -> Credentials {
        self.realm = Some(realm.into());
        self
    }
}

/// A digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Md5,
    Sha256,
    Sha512_256,
}

impl Hash {
    fn hex(self, data: &[u8]) -> String {
        match self {
            Hash::Md5 => hex(&Md5::digest(data)),
            Hash::Sha256 => hex(&Sha256::digest(data)),
            Hash::Sha512_256 => hex(&Sha512_256::digest(data)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Parses an algorithm token: the hash and whether it is a `-sess` variant.
fn algorithm(token: &str) -> Option<(Hash, bool)> {
    let upper = token.to_ascii_uppercase();
    let (base, sess) = match upper.strip_suffix("-SESS") {
        Some(base) => (base.to_owned(), true),
        None => (upper, false),
    };
    let hash = match base.as_str() {
        "MD5" => Hash::Md5,
        "SHA-256" => Hash::Sha256,
        "SHA-512-256" => Hash::Sha512_256,
        _ => return None,
    };
    Some((hash, sess))
}

/// Everything needed to compute one digest `response`.
#[derive(Debug, Clone)]
pub struct DigestInput<'a> {
    /// The challenge answered.
    pub challenge: &'a Challenge,
    /// The credentials.
    pub credentials: &'a Credentials,
    /// The request method.
    pub method: &'a str,
    /// The digest-uri (the Request-URI).
    pub uri: &'a str,
    /// The request body (for `auth-int`).
    pub body: &'a [u8],
    /// The client nonce.
    pub cnonce: &'a str,
    /// The nonce count (1 for the first use of a nonce).
    pub nc: u32,
}

/// Computes the `Authorization`/`Proxy-Authorization` value answering `input.challenge`, or
/// `None` when the algorithm is not one of MD5, SHA-256, SHA-512-256 (and their `-sess`).
pub fn authorization(input: &DigestInput<'_>) -> Option<String> {
    let c = input.challenge;
    let (hash, sess) = algorithm(&c.algorithm)?;
    let user = &input.credentials.username;
    let mut ha1 =
        hash.hex(format!("{user}:{}:{}", c.realm, input.credentials.password.expose()).as_bytes());
    if sess {
        ha1 = hash.hex(format!("{ha1}:{}:{}", c.nonce, input.cnonce).as_bytes());
    }
    // Prefer auth over auth-int: both peers support it and it does not hash the body twice.
    let qop = if c.qop.iter().any(|q| q == "auth") {
        Some("auth")
    } else if c.qop.iter().any(|q| q == "auth-int") {
        Some("auth-int")
    } else {
        None
    };
    let ha2 = if qop == Some("auth-int") {
        hash.hex(format!("{}:{}:{}", input.method, input.uri, hash.hex(input.body)).as_bytes())
    } else {
        hash.hex(format!("{}:{}", input.method, input.uri).as_bytes())
    };
    let nc = format!("{:08x}", input.nc);
    let response = match qop {
        Some(qop) => {
            hash.hex(format!("{ha1}:{}:{nc}:{}:{qop}:{ha2}", c.nonce, input.cnonce).as_bytes())
        }
        None => hash.hex(format!("{ha1}:{}:{ha2}", c.nonce).as_bytes()),
    };
    let mut value = format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
        c.realm, c.nonce, input.uri, c.algorithm
    );
    if let Some(opaque) = &c.opaque {
        value.push_str(&format!(", opaque=\"{opaque}\""));
    }
    if let Some(qop) = qop {
        value.push_str(&format!(
            ", qop={qop}, cnonce=\"{}\", nc={nc}",
            input.cnonce
        ));
    }
    Some(value)
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthRefusal {
    /// No credentials for the realm.
    NoCredentials { realm: String },
    /// The challenge asks for an algorithm we do not implement.
    UnsupportedAlgorithm { algorithm: String },
    /// The same realm challenged a request that already carried fresh credentials: the
    /// password is wrong.
    Rejected { realm: String },
}

/// The authentication state of one request chain (a REGISTER and its refreshes, one
/// INVITE, one BYE ...): which realms were answered, so a second non-stale challenge for the
/// same realm is taken as a wrong password rather than answered again.
#[derive(Debug, Default, Clone)]
pub(crate) struct AuthSession {
    answered: Vec<(String, String)>,
    /// Consecutive stale retries, bounded so a broken server cannot make us loop.
    stale_retries: u32,
}

const MAX_STALE_RETRIES: u32 = 3;

impl AuthSession {
    /// Adds Authorization/Proxy-Authorization lines answering every digest challenge in
    /// `response` to `request` (whose CSeq and branch the caller renews).
    pub(crate) fn answer(
        &mut self,
        request: &mut SipMessage,
        response: &SipMessage,
        credentials: &[Credentials],
        cnonce: &str,
    ) -> Result<(), AuthRefusal> {
        let mut lines = Vec::new();
        for (challenge_header, answer_header) in [
            ("WWW-Authenticate", "Authorization"),
            ("Proxy-Authenticate", "Proxy-Authorization"),
        ] {
            for raw in response.header_values_raw(challenge_header) {
                let Some(challenge) = Challenge::parse(raw) else {
                    continue;
                };
                // Several challenges for one realm (e.g. SHA-256 and MD5): answer the first
                // we can compute and skip the rest.
                if lines
                    .iter()
                    .any(|(_, realm, _): &(&str, String, String)| *realm == challenge.realm)
                {
                    continue;
                }
                let creds = credentials
                    .iter()
                    .find(|c| c.realm.as_deref() == Some(challenge.realm.as_str()))
                    .or_else(|| credentials.iter().find(|c| c.realm.is_none()))
                    .ok_or_else(|| AuthRefusal::NoCredentials {
                        realm: challenge.realm.clone(),
                    })?;
                let seen = self.answered.iter().any(|(realm, nonce)| {
                    *realm == challenge.realm && (*nonce != challenge.nonce || !challenge.stale)
                });
                if seen && !challenge.stale {
                    return Err(AuthRefusal::Rejected {
                        realm: challenge.realm,
                    });
                }
                if challenge.stale {
                    self.stale_retries += 1;
                    if self.stale_retries > MAX_STALE_RETRIES {
                        return Err(AuthRefusal::Rejected {
                            realm: challenge.realm,
                        });
                    }
                }
                let (method, uri) = match &request.start {
                    crate::message::StartLine::Request { method, uri } => {
                        (method.as_str().to_owned(), uri.clone())
                    }
                    crate::message::StartLine::Response { .. } => continue,
                };
                let Some(value) = authorization(&DigestInput {
                    challenge: &challenge,
                    credentials: creds,
                    method: &method,
                    uri: &uri,
                    body: &request.body,
                    cnonce,
                    nc: 1,
                }) else {
                    if response.header_values_raw(challenge_header).count() > 1 {
                        continue;
                    }
                    return Err(AuthRefusal::UnsupportedAlgorithm {
                        algorithm: challenge.algorithm,
                    });
                };
                self.answered
                    .push((challenge.realm.clone(), challenge.nonce.clone()));
                lines.push((answer_header, challenge.realm, value));
            }
        }
        if lines.is_empty() {
            return Err(AuthRefusal::UnsupportedAlgorithm {
                algorithm: "(no usable Digest challenge)".to_owned(),
            });
        }
        request.remove_header("Authorization");
        request.remove_header("Proxy-Authorization");
        for (name, _, value) in lines {
            request.push_header(name, value);
        }
        Ok(())
    }

    /// A success resets the stale counter and keeps the answered realms, so the refreshes of
    /// a registration can be challenged again with a fresh nonce.
    pub(crate) fn succeeded(&mut self) {
        self.answered.clear();
        self.stale_retries = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7616 §3.9.1 example (an HTTP request, same digest arithmetic).
    fn rfc7616(algorithm: &str) -> String {
        let challenge = Challenge {
            realm: "http-auth@example.org".into(),
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
            opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into()),
            algorithm: algorithm.into(),
            qop: vec!["auth".into(), "auth-int".into()],
            stale: false,
        };
        let creds = Credentials::new("Mufasa", "Circle of Life");
        authorization(&DigestInput {
            challenge: &challenge,
            credentials: &creds,
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
        })
        .unwrap()
    }

    #[test]
    fn rfc7616_md5_vector() {
        assert!(rfc7616("MD5").contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""));
    }

    #[test]
    fn rfc7616_sha256_vector() {
        assert!(rfc7616("SHA-256").contains(
            "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
        ));
    }

    #[test]
    fn rfc2617_without_qop() {
        // RFC 2617 §3.5 arithmetic without qop: response = MD5(HA1:nonce:HA2).
        let challenge = Challenge {
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            opaque: None,
            algorithm: "MD5".into(),
            qop: vec![],
            stale: false,
        };
        let creds = Credentials::new("Mufasa", "Circle Of Life");
        let value = authorization(&DigestInput {
            challenge: &challenge,
            credentials: &creds,
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "x",
            nc: 1,
        })
        .unwrap();
        let ha1 = hex(&Md5::digest(b"Mufasa:testrealm@host.com:Circle Of Life"));
        let ha2 = hex(&Md5::digest(b"GET:/dir/index.html"));
        let expected = hex(&Md5::digest(
            format!("{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{ha2}").as_bytes(),
        ));
        assert!(value.contains(&format!("response=\"{expected}\"")));
        assert!(!value.contains("qop"));
    }

    #[test]
    fn unknown_algorithm_is_refused() {
        assert!(algorithm("SHA-1").is_none());
        assert_eq!(algorithm("sha-256-sess"), Some((Hash::Sha256, true)));
    }

    #[test]
    fn password_is_masked() {
        let c = Credentials::new("alice", "secret-pw");
        assert!(!format!("{c:?}").contains("secret-pw"));
    }
}
